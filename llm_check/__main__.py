"""`python -m llm_check` and the `llm-check` console script (pyproject: llm_check.__main__:main)."""

import sys

from llm_check.cli import main

if __name__ == "__main__":
    sys.exit(main())
