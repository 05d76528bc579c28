"""theory room of the basin suite (see ../shared/DESIGN.md)."""
