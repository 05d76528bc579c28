"""The one argument parser of the suite's command lines (theory, toymodels, llm_check, paper_figures).

argparse prints its usage and message on two lines and exits with status 2 by itself; `OneLineParser`
raises `theory.errors.UserInputError` instead, so each CLI's main turns every user mistake, argparse's
included, into its one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from theory.errors import UserInputError


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise UserInputError (the message only, no usage text)."""

    def error(self, message: str) -> NoReturn:
        raise UserInputError(message)
