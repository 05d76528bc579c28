"""The one error type for what a user can get wrong (bad path, bad sigma, empty task, ...).

CLIs map it to exit status 2 and one line on stderr; a failed check exits 1.
"""


class UserInputError(ValueError):
    """A mistake in user-supplied input; the message names the argument and its allowed range."""
