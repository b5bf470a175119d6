"""The one exception type the CLI turns into a one-line message (no traceback)."""


class AnnotatorError(Exception):
    """An expected failure (bad input, unreachable server, bad token...).

    The message is one line that names the file, row or server concerned and,
    where there is one, what to do about it.
    """
