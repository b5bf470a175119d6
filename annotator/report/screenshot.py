"""A PNG screenshot of a report with headless Chromium (fresh profile, no network)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import AnnotatorError

__all__ = ["CHROMIUM_FLAGS", "screenshot"]

#: Flags for headless Chromium that keep it off the network.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def screenshot(html, png, *, width=1280, height=6000, chromium=None, timeout=120) -> Path:
    """A PNG screenshot of an HTML file with headless Chromium (fresh profile, no network)."""
    exe = chromium or os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise AnnotatorError("chromium not found (apt-get install chromium)")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="annotator-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
               f"--window-size={int(width)},{int(height)}", f"--screenshot={png}", Path(html).resolve().as_uri()]
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0 or not png.is_file():
        raise AnnotatorError(f"chromium screenshot failed ({res.returncode}): {res.stderr.strip()[-300:]}")
    return png
