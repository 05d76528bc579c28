"""Error types: `UserInputError` for what a user can get wrong, `InternalError` for a bug.

`UserInputError` (bad path, bad sigma, empty task, ...) is the one type CLIs map to exit status 2 and one
line on stderr; a failed check exits 1. `InternalError` is a broken invariant inside the suite or a misuse of
its Python API by calling code: it is never caught by the CLIs, so it ends the run with a traceback.
"""


class UserInputError(ValueError):
    """A mistake in user-supplied input; the message names the argument and its allowed range."""


class InternalError(AssertionError):
    """A broken invariant or a misuse of the Python API by calling code (not by a user); shows a traceback."""
