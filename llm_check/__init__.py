"""llm_check room of the basin suite (see ../shared/DESIGN.md)."""
