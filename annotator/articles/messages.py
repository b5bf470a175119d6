"""One-line error messages: sizes, OS reasons, whitespace folded."""
from __future__ import annotations

__all__ = ["one_line", "size_text", "too_large", "os_reason"]


def one_line(message: object) -> str:
    """``message`` as one line (runs of whitespace, newlines included, become one space)."""
    return " ".join(str(message).split())


def size_text(n: int) -> str:
    """A byte count for people: ``1.5 MB`` from 1 MB (2**20 bytes) up, else ``1,234 bytes``."""
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def too_large(n: int, limit: int) -> str:
    """``too large (N > LIMIT limit)``."""
    return f"too large ({size_text(n)} > {size_text(limit)} limit)"


def os_reason(exc: OSError) -> str:
    """Why an OS call failed, in a few words (``No such file or directory``)."""
    return exc.strerror or one_line(exc) or type(exc).__name__
