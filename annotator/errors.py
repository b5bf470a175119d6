"""The exception the CLI turns into a one-line error (no traceback), and the warning it prints as one line."""


class AnnotatorError(Exception):
    """An expected failure (bad input, unreachable server, bad token...).

    The message is one line that names the file, row or server concerned and,
    where there is one, what to do about it.
    """


class AnnotatorWarning(UserWarning):
    """Something to report that does not stop the job (e.g. files a folder holds but no reader reads).

    The CLI prints it as one ``annotator: warning: ...`` line.
    """
