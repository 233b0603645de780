"""The one exception type for problems a user can cause and fix."""


class InputError(Exception):
    """Bad input: a missing file, a bad column, an impossible setting.

    The message names the file, the row or column, what is wrong and how to fix it.
    The command line prints it on one line and exits with status 2; anything else
    that escapes is a bug.
    """
