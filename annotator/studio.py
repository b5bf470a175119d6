"""Label Studio round trip: a local server, a connection, ``push`` and ``pull``.

Three parts, each usable on its own:

* **A local server** (:class:`LocalStudio`): Label Studio from the installed
  ``label-studio`` package, bound to 127.0.0.1 on a free port, data under a user
  data dir (default ``$XDG_DATA_HOME/annotator/studio``, i.e.
  ``~/.local/share/annotator/studio``), with an admin user and a random legacy
  API token created non-interactively and no outbound calls (analytics, version
  check and Sentry are off). ``up`` writes ``state.json`` (pid, port, url) and
  ``credentials.json`` (mode 0600: url, email, password, api_key) in the data
  dir. Used by ``annotator studio up | down | status``.
* **A connection** (:func:`resolve_connection`, :func:`connect`): any Label
  Studio, found in this order (the first that names a URL wins):

  1. the ``url=`` / ``api_key=`` arguments (CLI: ``--url``; the key has no CLI
     option so that it never lands in shell history or ``ps``);
  2. the environment: ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``;
  3. a config file: ``$ANNOTATOR_STUDIO_CONFIG``, else
     ``$XDG_CONFIG_HOME/annotator/studio.json`` (``~/.config/...``), a JSON
     object ``{"url": ..., "api_key": ...}`` (keep it mode 0600);
  4. the local server started by ``annotator studio up`` (its ``state.json``
     and ``credentials.json``; ``--data-dir`` / ``ANNOTATOR_STUDIO_DIR``).

  When the source that gave the URL has no key, ``LABEL_STUDIO_API_KEY`` is
  used. The key is a personal access token (a JWT refresh token; the SDK
  exchanges it for short-lived access tokens) or a legacy token. It is never
  printed, logged or written into outputs.
* **push / pull** (:func:`push`, :func:`pull`): articles to tasks with
  pre-annotations, and the project's annotations back into a
  :class:`annotator.dataset.Dataset`.

Offsets
-------
Label Studio 1.23's ``<Text>`` tag counts offsets in Unicode code points (its
frontend ``domManager`` splits the text with ``[...text]``), which equal Python
``str`` indices: verified in Chromium against a 1.23.2 server, both for a span
selected with the mouse after emoji and astral characters and for a prediction
highlighted from Python offsets. Older frontends counted UTF-16 code units. All
conversions go through :func:`py_to_ls_offsets` / :func:`ls_to_py_offsets`
(``unit="codepoint"`` by default, ``"utf16"`` for such servers). The ``text``
Label Studio stores for a span selected across a line break has ``\\n``
spelled as a backslash and ``n`` and runs of spaces collapsed: the span text
check in :func:`pull` compares texts with whitespace normalised, and the
dataset's ``text`` column is always the article text at the offsets.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .dataset import Dataset, write_dataset
from .errors import AnnotatorError
from .taxonomy import Taxonomy, TaxonomyError, load_taxonomy, parse_taxonomy

__all__ = [
    "StudioError", "StudioWarning", "LocalStudio", "Connection", "Studio",
    "resolve_connection", "connect", "push", "pull", "build_prediction", "compare_configs",
    "py_to_ls_offsets", "ls_to_py_offsets", "span_mismatches", "default_data_dir",
    "ensure_template", "TemplateServer", "start_server", "wait_healthy", "stop_server", "free_port", "server_env",
    "LS_VERSION", "existing_tasks", "export_tasks", "tasks_to_dataset", "write_csv",
]

LS_VERSION = "1.23.2"
ADMIN_EMAIL = "admin@annotator.localhost"
STATE_FILE = "state.json"
CREDENTIALS_FILE = "credentials.json"
LOG_FILE = "server.log"
SUMMARY_COLUMNS = ["article_id", "task_id", "status", "detail"]
MISMATCH_COLUMNS = ["article_id", "annotator", "label", "start", "end", "stored_text", "article_text"]
_LEGACY_DISABLED = "legacy token authentication has been disabled"


class StudioError(AnnotatorError):
    """An expected Label Studio failure: unreachable, refused token, unknown project..."""


class StudioWarning(UserWarning):
    """Something to report that does not stop a push or pull (e.g. span text mismatches)."""


# --- offsets ----------------------------------------------------------------------------------


def py_to_ls_offsets(text: str, start: int, end: int, unit: str = "codepoint") -> tuple[int, int]:
    """Python ``str`` indices -> Label Studio ``<Text>`` offsets.

    ``unit="codepoint"`` (Label Studio >= 1.x with the ``domManager`` frontend,
    verified on 1.23.2) is the identity; ``unit="utf16"`` counts UTF-16 code
    units, as older frontends did (an emoji outside the BMP counts 2).
    """
    if unit == "codepoint":
        return start, end
    if unit == "utf16":
        s = _utf16_len(text[:start])
        return s, s + _utf16_len(text[start:end])
    raise ValueError(f"unknown offset unit {unit!r} (codepoint or utf16)")


def ls_to_py_offsets(text: str, start: int, end: int, unit: str = "codepoint") -> tuple[int, int]:
    """Label Studio ``<Text>`` offsets -> Python ``str`` indices (inverse of :func:`py_to_ls_offsets`)."""
    if unit == "codepoint":
        return int(start), int(end)
    if unit == "utf16":
        units = text.encode("utf-16-le")
        s = len(units[: 2 * int(start)].decode("utf-16-le", errors="ignore"))
        e = len(units[: 2 * int(end)].decode("utf-16-le", errors="ignore"))
        return s, e
    raise ValueError(f"unknown offset unit {unit!r} (codepoint or utf16)")


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _norm_ws(s: str) -> str:
    # Label Studio spells a line break inside a selected span's text as backslash-n and
    # collapses runs of whitespace: compare texts modulo whitespace.
    return " ".join(s.replace("\\n", "\n").split())


# --- local server -----------------------------------------------------------------------------


def default_data_dir() -> Path:
    """``$ANNOTATOR_STUDIO_DIR``, else ``$XDG_DATA_HOME/annotator/studio`` (``~/.local/share/...``)."""
    if os.environ.get("ANNOTATOR_STUDIO_DIR"):
        return Path(os.environ["ANNOTATOR_STUDIO_DIR"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "annotator" / "studio"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _label_studio_exe() -> str:
    here = Path(sys.executable).parent / "label-studio"
    exe = str(here) if here.exists() else shutil.which("label-studio")
    if not exe:
        raise StudioError("the label-studio package is not installed: pip install 'annotator[studio]' "
                          "(or point LABEL_STUDIO_URL at another Label Studio)")
    return exe


def server_env(ls_data_dir: str | os.PathLike, *, email: str | None = None, password: str | None = None,
               token: str | None = None) -> dict:
    """Environment for any ``label-studio`` command: data in ``ls_data_dir``, sqlite, no phone-home.

    With ``email``/``password``/``token`` the admin user is created with that
    legacy token, and legacy tokens enabled, unless the database has them already.
    """
    ls_data_dir = Path(ls_data_dir)
    xdg = ls_data_dir.parent / "xdg"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(ls_data_dir),
        "XDG_CONFIG_HOME": str(xdg / "config"), "XDG_DATA_HOME": str(xdg / "data"),
        "XDG_CACHE_HOME": str(xdg / "cache"),
        "DJANGO_DB": "sqlite", "COLLECT_ANALYTICS": "false", "LATEST_VERSION_CHECK": "false",
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "", "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "PYTHONUNBUFFERED": "1",
    })
    if email and password and token:
        env.update({"LABEL_STUDIO_USERNAME": email, "LABEL_STUDIO_PASSWORD": password,
                    "LABEL_STUDIO_USER_TOKEN": token, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true"})
    return env


def start_server(ls_data_dir, port: int, log_path, env: dict) -> subprocess.Popen:
    """Start ``label-studio start`` on 127.0.0.1:``port`` in its own process group (no wait)."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            [_label_studio_exe(), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ls_data_dir),
            start_new_session=True,
        )
    finally:
        log.close()


def _alive(pid: int, proc: subprocess.Popen | None = None) -> bool:
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def _is_label_studio(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        return b"label-studio" in cmdline or b"label_studio" in cmdline
    except OSError:
        return not Path("/proc").is_dir()  # no procfs: trust the state file


def _log_tail(log_path, n: int = 3) -> str:
    try:
        lines = [ln.strip() for ln in Path(log_path).read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def wait_healthy(url: str, *, proc: subprocess.Popen | None = None, pid: int | None = None, port: int | None = None,
                 log_path=None, timeout: float = 300, progress: bool = True, what: str = "Label Studio") -> float:
    """Poll ``GET url/health`` until ``{"status": "UP"}``; return seconds waited.

    Fails early when the process exits or when Label Studio moved to another
    port because ``port`` was taken (it does that silently).
    """
    import httpx

    t0 = time.monotonic()
    tty = progress and sys.stderr.isatty()
    last_note = 0.0
    while True:
        waited = time.monotonic() - t0
        if pid is not None and not _alive(pid, proc):
            raise StudioError(f"{what} exited while starting (see {log_path}: {_log_tail(log_path)})")
        if log_path and port and "is in use" in _read(log_path):
            raise _PortTaken(port)
        try:
            r = httpx.get(url.rstrip("/") + "/health", timeout=2, trust_env=False)
            if r.status_code == 200 and r.json().get("status") == "UP":
                if tty:
                    sys.stderr.write("\n")
                return waited
        except (httpx.HTTPError, ValueError):
            pass
        if waited > timeout:
            raise StudioError(f"{what} did not answer {url}/health within {timeout:.0f} s (see {log_path})")
        if progress and (tty or waited - last_note >= 15):
            msg = f"annotator: waiting for {what} at {url} ... {waited:4.0f} s"
            sys.stderr.write(("\r" + msg) if tty else (msg + "\n"))
            sys.stderr.flush()
            last_note = waited
        time.sleep(0.5)


class _PortTaken(StudioError):
    def __init__(self, port):
        super().__init__(f"port {port} was taken while Label Studio started")


def _read(path) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def stop_server(pid: int, proc: subprocess.Popen | None = None, timeout: float = 20) -> bool:
    """SIGTERM the server's process group (it was started in its own session), SIGKILL after ``timeout``."""
    if not _alive(pid, proc):
        if proc is not None:
            proc.wait()
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            if proc is not None:
                if proc.poll() is not None:
                    return True
            elif not _alive(pid):
                return True
            time.sleep(0.1)
    return not _alive(pid, proc)


def ensure_template(cache_dir: str | os.PathLike, *, progress: bool = True) -> tuple[Path, dict]:
    """A migrated Label Studio data dir made once with ``label-studio init`` (about 45 s).

    Returns ``(ls_dir, credentials)``: copy ``ls_dir`` (``shutil.copytree``) and
    start on the copy, about 5 s instead of 45. The admin user, password and
    legacy token (random, made with the template) are baked into every copy and
    kept in ``cache_dir/credentials.json`` (mode 0600): for tests and benchmarks
    on throwaway loopback servers.
    """
    cache_dir = Path(cache_dir)
    ls_dir = cache_dir / "ls"
    if (cache_dir / "READY").exists() and (cache_dir / CREDENTIALS_FILE).exists():
        return ls_dir, _read_json(cache_dir / CREDENTIALS_FILE)
    if cache_dir.exists():  # incomplete or from an older layout
        shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=cache_dir.name + ".", dir=cache_dir.parent))
    try:
        if progress:
            print(f"annotator: making a Label Studio {LS_VERSION} template in {cache_dir} (once, about 45 s)",
                  file=sys.stderr, flush=True)
        creds = {"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(18), "api_key": secrets.token_hex(20)}
        _write_private(tmp / CREDENTIALS_FILE, creds)
        env = server_env(tmp / "ls")
        (tmp / "ls").mkdir()
        r = subprocess.run(
            [_label_studio_exe(), "init", "-q", "--username", creds["email"], "--password", creds["password"],
             "--user-token", creds["api_key"], "--enable-legacy-api-token"],
            env=env, cwd=str(tmp / "ls"), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )
        if r.returncode != 0 or not (tmp / "ls" / "label_studio.sqlite3").exists():
            raise StudioError(f"label-studio init failed: {(r.stdout + r.stderr).strip().splitlines()[-1:]}")
        (tmp / "READY").write_text(json.dumps({"version": LS_VERSION, "made_at": _now()}))
        try:
            os.rename(tmp, cache_dir)
        except OSError:  # made concurrently by someone else
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ls_dir, _read_json(cache_dir / CREDENTIALS_FILE)


class TemplateServer:
    """A throwaway Label Studio on a free 127.0.0.1 port, started on a copy of :func:`ensure_template`.

    For tests and benchmarks: ``with TemplateServer(cache_dir, work_dir) as srv:``
    gives ``srv.url``, ``srv.credentials``; the server is stopped by PID on exit.
    """

    def __init__(self, cache_dir, work_dir, *, timeout: float = 180, progress: bool = False):
        self.cache_dir, self.work_dir = Path(cache_dir), Path(work_dir)
        self.timeout, self.progress = timeout, progress
        self.proc = None
        self.url = None
        self.credentials = None
        self.template = None

    def start(self) -> "TemplateServer":
        self.template, self.credentials = ensure_template(self.cache_dir)
        ls_dir = self.work_dir / "ls"
        shutil.copytree(self.template, ls_dir, symlinks=True)
        env = server_env(ls_dir)
        log = self.work_dir / LOG_FILE
        for _ in range(3):
            port = free_port()
            self.proc = start_server(ls_dir, port, log, env)
            self.url = f"http://127.0.0.1:{port}"
            try:
                wait_healthy(self.url, proc=self.proc, pid=self.proc.pid, port=port, log_path=log,
                             timeout=self.timeout, progress=self.progress)
                return self
            except _PortTaken:
                self.stop()
            except BaseException:
                self.stop()
                raise
        raise StudioError("could not start Label Studio on a free port")

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc.pid, self.proc)
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _write_private(path: Path, payload: dict) -> None:
    """Write JSON atomically with mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StudioError(f"{path}: unreadable ({exc.__class__.__name__}): remove it and retry") from None


class LocalStudio:
    """The local Label Studio kept in ``data_dir`` (see the module docstring).

    Layout: ``data_dir/ls`` (Label Studio's own data: sqlite DB, media,
    exports, ``.env`` with its SECRET_KEY), ``data_dir/xdg``,
    ``data_dir/server.log``, ``data_dir/state.json`` and
    ``data_dir/credentials.json`` (0600).
    """

    def __init__(self, data_dir: str | os.PathLike | None = None):
        self.data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
        self.ls_dir = self.data_dir / "ls"
        self.state_path = self.data_dir / STATE_FILE
        self.credentials_path = self.data_dir / CREDENTIALS_FILE
        self.log_path = self.data_dir / LOG_FILE

    def state(self) -> dict | None:
        return _read_json(self.state_path)

    def credentials(self) -> dict | None:
        return _read_json(self.credentials_path)

    def status(self) -> dict:
        """``{"running": bool, "url", "pid", "port", "data_dir", "credentials"}``."""
        import httpx

        st = self.state() or {}
        pid = st.get("pid")
        running = bool(pid) and _alive(pid) and _is_label_studio(pid)
        healthy = False
        if running:
            try:
                healthy = httpx.get(st["url"] + "/health", timeout=3, trust_env=False).json().get("status") == "UP"
            except (httpx.HTTPError, ValueError):
                healthy = False
        return {"running": running, "healthy": healthy, "url": st.get("url") if running else None,
                "pid": pid if running else None, "port": st.get("port") if running else None,
                "data_dir": str(self.data_dir), "credentials": str(self.credentials_path)}

    def up(self, port: int | None = None, *, timeout: float = 300, progress: bool = True,
           template: str | os.PathLike | None = None, template_credentials: dict | None = None) -> dict:
        """Start the server unless it runs; return :meth:`status`. First start: about 45 s (migrations).

        ``template`` (tests and benchmarks): on a first start, copy this migrated
        Label Studio data dir (:func:`ensure_template`) instead of migrating, and
        use ``template_credentials`` (``email``, ``password``, ``api_key``) baked into it.
        """
        st = self.status()
        if st["running"]:
            return st
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        first = not (self.ls_dir / "label_studio.sqlite3").exists()
        if first and template is not None:
            if not template_credentials:
                raise ValueError("template needs template_credentials")
            shutil.rmtree(self.ls_dir, ignore_errors=True)
            shutil.copytree(template, self.ls_dir, symlinks=True)
            _write_private(self.credentials_path, dict(template_credentials))
            first = False
        self.ls_dir.mkdir(exist_ok=True)
        creds = self.credentials()
        if creds is None:
            if not first:
                raise StudioError(f"{self.ls_dir} has a database but {self.credentials_path} is missing: "
                                  f"restore it, or move {self.data_dir} away to start afresh")
            creds = {"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(18), "api_key": secrets.token_hex(20)}
            _write_private(self.credentials_path, creds)
        self.state_path.unlink(missing_ok=True)
        # Passed on every start: Label Studio creates the admin (with this token) only when it is
        # missing, so this is idempotent and also recovers a first start interrupted mid-migration.
        env = server_env(self.ls_dir, email=creds["email"], password=creds["password"], token=creds["api_key"])
        if progress and first:
            print("annotator: first start of Label Studio: migrating its database (about a minute)",
                  file=sys.stderr, flush=True)
        previous = re.search(r":(\d+)$", str(creds.get("url") or ""))
        for attempt in range(3):
            p = port or (int(previous.group(1)) if previous and attempt == 0 else free_port())
            if _port_busy(p):
                if port:
                    raise StudioError(f"port {p} on 127.0.0.1 is in use: choose another --port or omit it")
                continue
            self.log_path.write_bytes(b"")
            proc = start_server(self.ls_dir, p, self.log_path, env)
            url = f"http://127.0.0.1:{p}"
            try:
                wait_healthy(url, proc=proc, pid=proc.pid, port=p, log_path=self.log_path, timeout=timeout,
                             progress=progress)
            except _PortTaken:
                stop_server(proc.pid, proc)
                if port:
                    raise StudioError(f"port {p} on 127.0.0.1 is in use: choose another --port or omit it") from None
                continue
            except BaseException:
                stop_server(proc.pid, proc)
                raise
            creds["url"] = url
            _write_private(self.credentials_path, creds)
            _write_private(self.state_path, {"pid": proc.pid, "port": p, "url": url, "version": LS_VERSION,
                                             "started_at": _now()})
            return self.status()
        raise StudioError("could not find a free port on 127.0.0.1 for Label Studio")

    def down(self, timeout: float = 30) -> bool:
        """Stop the server by its PID (SIGTERM); ``False`` if it was not running."""
        st = self.state()
        if not st:
            return False
        pid = st.get("pid")
        stopped = False
        if pid and _alive(pid) and _is_label_studio(pid):
            stopped = stop_server(pid, timeout=timeout)
        self.state_path.unlink(missing_ok=True)
        return stopped


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --- connection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """Where a Label Studio is and how to authenticate (the key never shows in ``repr``)."""

    url: str
    api_key: str = field(repr=False)
    source: str = ""


def _config_file() -> Path:
    if os.environ.get("ANNOTATOR_STUDIO_CONFIG"):
        return Path(os.environ["ANNOTATOR_STUDIO_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "annotator" / "studio.json"


def resolve_connection(url: str | None = None, api_key: str | None = None,
                       data_dir: str | os.PathLike | None = None) -> Connection:
    """Find the Label Studio to talk to (order in the module docstring)."""
    env_key = os.environ.get("LABEL_STUDIO_API_KEY") or None
    candidates = []
    if url or api_key:
        candidates.append((url, api_key, "arguments"))
    if os.environ.get("LABEL_STUDIO_URL"):
        candidates.append((os.environ["LABEL_STUDIO_URL"], env_key, "LABEL_STUDIO_URL"))
    cfg_path = _config_file()
    cfg = _read_json(cfg_path) if cfg_path.is_file() else None
    if cfg:
        candidates.append((cfg.get("url"), cfg.get("api_key"), str(cfg_path)))
    local = LocalStudio(data_dir)
    st = local.state()
    if st and st.get("url"):
        creds = local.credentials() or {}
        candidates.append((st["url"], creds.get("api_key"), f"local server ({local.data_dir})"))
    for u, k, src in candidates:
        if not u:
            continue
        k = k or env_key
        if not k:
            raise StudioError(f"no API key for Label Studio at {u} (from {src}): set LABEL_STUDIO_API_KEY to a "
                              "personal access token (Account & Settings) or a legacy token")
        if not re.match(r"^https?://", u):
            raise StudioError(f"Label Studio URL {u!r} (from {src}) must start with http:// or https://")
        return Connection(u.rstrip("/"), k, src)
    raise StudioError("no Label Studio configured: run 'annotator studio up', or set LABEL_STUDIO_URL and "
                      "LABEL_STUDIO_API_KEY")


class Studio:
    """A Label Studio client (SDK 2.x ``LabelStudio``) whose failures are one-line :class:`StudioError`\\ s.

    Idempotent calls are retried on timeouts, connection resets, 429 and 5xx
    with exponential backoff (``retries`` tries after the first).
    """

    def __init__(self, connection: Connection, *, timeout: float = 60, retries: int = 3, backoff: float = 1.0):
        from label_studio_sdk import LabelStudio

        self.connection = connection
        self.url = connection.url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sdk = self.call("connect", lambda: LabelStudio(base_url=connection.url, api_key=connection.api_key,
                                                            timeout=timeout, max_retries=0), retry=False)
        self._version = None

    # error handling
    def call(self, what: str, fn, *args, retry: bool = True, **kwargs):
        """Run ``fn(*args, **kwargs)``, translating failures into :class:`StudioError`."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        tries = 1 + (self.retries if retry else 0)
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                return fn(*args, **kwargs)
            except ApiError as exc:
                code = exc.status_code or 0
                if (code >= 500 or code in (408, 429)) and not last:
                    self._sleep(attempt)
                    continue
                raise self._api_error(exc, what, attempt + 1) from None
            except httpx.TimeoutException:
                if not last:
                    self._sleep(attempt)
                    continue
                raise StudioError(f"Label Studio at {self.url} did not answer ({what}) within {self.timeout:g} s, "
                                  f"{attempt + 1} tries: it may be overloaded; retry later or raise --timeout") from None
            except httpx.ConnectError as exc:
                if attempt < min(1, tries - 1):
                    self._sleep(attempt, 0.5)
                    continue
                reason = _reason(exc)
                raise StudioError(f"cannot connect to Label Studio at {self.url} ({reason}): is it running? "
                                  "Start the local one with 'annotator studio up' or set LABEL_STUDIO_URL") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if not last:
                    self._sleep(attempt)
                    continue
                raise StudioError(f"Label Studio at {self.url} dropped the connection ({what}: {_reason(exc)}), "
                                  f"{attempt + 1} tries: see its log") from None
            except httpx.HTTPError as exc:
                raise StudioError(f"Label Studio at {self.url}: {what} failed: {_reason(exc)}") from None

    def _sleep(self, attempt: int, base: float | None = None) -> None:
        b = self.backoff if base is None else base
        time.sleep(min(b * 2 ** attempt, 30) * (0.75 + 0.5 * random.random()))

    def _api_error(self, exc, what: str, tries: int) -> StudioError:
        code = exc.status_code
        detail = _detail(exc.body)
        if code == 401 or code == 403:
            low = detail.lower()
            if _LEGACY_DISABLED in low or ("legacy" in low and "disabled" in low):
                return StudioError(
                    f"Label Studio at {self.url} has legacy API tokens disabled (401): use a personal access "
                    "token (Account & Settings > Personal Access Token) in LABEL_STUDIO_API_KEY, or enable legacy "
                    "tokens (Organization > API Tokens Settings)")
            if "expired" in low:
                return StudioError(f"the personal access token for {self.url} has expired ({code}): create a new one "
                                   "(Account & Settings > Personal Access Token) and set LABEL_STUDIO_API_KEY")
            return StudioError(f"Label Studio at {self.url} refused the API key ({code}: {detail or 'unauthorized'}): "
                               "check LABEL_STUDIO_API_KEY (a personal access token or a legacy token)")
        if code is not None and code >= 500:
            return StudioError(f"Label Studio at {self.url} failed ({what}) with HTTP {code} after {tries} tries: "
                               "see the server log, then retry")
        return StudioError(f"Label Studio at {self.url} rejected {what} (HTTP {code}: {detail or 'no detail'})")

    # server facts
    def check(self) -> dict:
        """Reach the server and check the key: ``{"version", "user"}``."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        def get_version():
            r = httpx.get(self.url + "/api/version", timeout=self.timeout)
            if r.status_code >= 500 or r.status_code in (408, 429):
                raise ApiError(status_code=r.status_code, headers=dict(r.headers), body=r.text)
            return r

        r = self.call("version", get_version)
        try:
            version = r.json().get("release") if r.status_code == 200 else None
        except (ValueError, AttributeError):
            version = None
        user = self.call("authentication", self.sdk.users.whoami)
        self._version = version
        return {"version": version, "user": getattr(user, "email", None) or getattr(user, "id", None)}

    # projects
    def projects_by_title(self, title: str) -> list:
        found = self.call("list projects", lambda: list(self.sdk.projects.list(title=title, page_size=100)))
        return [p for p in found if p.title == title]  # the server's filter is a substring match

    def get_project(self, title: str):
        found = self.projects_by_title(title)
        if not found:
            titles = [p.title for p in self.call("list projects", lambda: list(self.sdk.projects.list(page_size=100)))]
            hint = f" (projects: {', '.join(repr(t) for t in titles[:8])}{' ...' if len(titles) > 8 else ''})" \
                if titles else " (the server has no project)"
            raise StudioError(f"no project titled {title!r} at {self.url}{hint}: push articles to create it")
        if len(found) > 1:
            raise StudioError(f"{len(found)} projects are titled {title!r} at {self.url} "
                              f"(ids {', '.join(str(p.id) for p in found)}): rename all but one")
        return self.call("get project", self.sdk.projects.get, found[0].id)

    def ensure_project(self, title: str, taxonomy: Taxonomy, create: bool = True):
        """The project titled ``title`` (created from ``taxonomy.xml`` when missing); ``(project, created)``.

        An existing project must have the same label set, else :class:`StudioError`
        saying what differs.
        """
        found = self.projects_by_title(title)
        if not found:
            if not create:
                return self.get_project(title), False
            proj = self.call("create project", self.sdk.projects.create, title=title, label_config=taxonomy.xml,
                             retry=False)
            return proj, True
        proj = self.get_project(title)
        diffs, cosmetic = compare_configs(taxonomy, proj.label_config or "")
        if diffs:
            raise StudioError(f"project {title!r} (id {proj.id}) at {self.url} has another label config: "
                              f"{'; '.join(diffs)}. Push to a new --project, or make the configs agree "
                              f"(project Settings > Labeling Interface, or {taxonomy.path or 'the label config'})")
        if cosmetic:
            warnings.warn(f"project {title!r} config differs from ours only in presentation ({cosmetic})",
                          StudioWarning, stacklevel=3)
        return proj, False


def _reason(exc) -> str:
    s = str(exc) or exc.__class__.__name__
    m = re.search(r"\[Errno -?\d+\] ([^\]'\"]+)", s)
    return (m.group(1) if m else s).strip().splitlines()[0][:200]


def _detail(body) -> str:
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("detail", "message", "error") if body.get(k)][:1]
        errs = body.get("validation_errors")
        if isinstance(errs, dict):
            parts.append("; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                   for k, v in errs.items()))
        elif errs:
            parts.append(str(errs))
        if parts:
            return " ".join(": ".join(parts).split())[:300]
        return " ".join(json.dumps(body)[:300].split())
    if isinstance(body, str):
        txt = re.sub(r"<[^>]+>", " ", body)
        return " ".join(txt.split())[:200]
    return "" if body is None else str(body)[:200]


def connect(url: str | None = None, api_key: str | None = None, *, data_dir=None, timeout: float = 60,
            retries: int = 3, check: bool = True) -> Studio:
    """A :class:`Studio` for the resolved connection; with ``check`` it verifies reachability and the key."""
    studio = Studio(resolve_connection(url, api_key, data_dir), timeout=timeout, retries=retries)
    if check:
        studio.check()
    return studio


# --- label config comparison ------------------------------------------------------------------


def compare_configs(ours: Taxonomy, theirs_xml: str) -> tuple[list[str], str]:
    """What differs between our taxonomy and a project's config.

    Returns ``(differences, cosmetic)``: ``differences`` lists semantic changes
    (labels, choices, their order, tag names) as readable phrases; ``cosmetic``
    is a non-empty note when only presentation (hints, colours, headers) differs.
    """
    try:
        theirs = parse_taxonomy(theirs_xml, "project config")
    except TaxonomyError as exc:
        return [f"it is not an annotator config ({exc})"], ""
    diffs = []

    def setdiff(what, a, b):
        added = [x for x in b if x not in a]
        removed = [x for x in a if x not in b]
        if added:
            diffs.append(f"{what} added in the project: {', '.join(added)}")
        if removed:
            diffs.append(f"{what} missing from the project: {', '.join(removed)}")
        if not added and not removed and list(a) != list(b):
            diffs.append(f"{what} in another order: {', '.join(b)} (ours: {', '.join(a)})")

    setdiff("span labels", ours.label_ids, theirs.label_ids)
    setdiff("reliability choices", ours.reliability_choices, theirs.reliability_choices)
    setdiff("framing-risk ratings", ours.rating_choices, theirs.rating_choices)
    for attr, what in (("span_from_name", "<Labels> name"), ("to_name", "<Text> name"),
                       ("text_field", "text field"), ("reliability_from_name", "reliability <Choices> name"),
                       ("rating_from_name", "rating <Choices> name")):
        if getattr(ours, attr) != getattr(theirs, attr):
            diffs.append(f"{what} is {getattr(theirs, attr)!r} (ours: {getattr(ours, attr)!r})")
    cosmetic = ""
    if not diffs and ours.config_hash != theirs.config_hash:
        changed = [lab.id for lab, other in zip(ours.labels, theirs.labels) if lab != other]
        cosmetic = f"hints or colours of {', '.join(changed)}" if changed else "hints, headers or layout"
    return diffs, cosmetic


# --- push -------------------------------------------------------------------------------------


def build_prediction(text: str, spans: list[dict], model_version: str, taxonomy: Taxonomy,
                     unit: str = "codepoint") -> dict:
    """A Label Studio prediction ``{"model_version", "score", "result"}`` from tagger spans.

    Each span becomes a ``labels`` region (``value.text`` is the article text at
    the span, offsets converted with :func:`py_to_ls_offsets`); the score is the
    mean span score, 0 with no span.
    """
    result = []
    scores = []
    for i, sp in enumerate(spans):
        label = taxonomy.check_label(sp["label"])
        s, e = int(sp["start"]), int(sp["end"])
        if not 0 <= s < e <= len(text):
            raise AnnotatorError(f"tagger span {label} [{s}, {e}) is outside the article ({len(text)} characters)")
        ls_s, ls_e = py_to_ls_offsets(text, s, e, unit)
        score = float(sp.get("score", 1.0))
        scores.append(score)
        result.append({
            "id": f"p{i}", "from_name": taxonomy.span_from_name, "to_name": taxonomy.to_name, "type": "labels",
            "score": score, "value": {"start": ls_s, "end": ls_e, "text": text[s:e], "labels": [label]},
        })
    score = sum(scores) / len(scores) if scores else 0.0
    return {"model_version": str(model_version), "score": round(score, 6), "result": result}


def _json_value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (pd.Timestamp, _dt.date, _dt.datetime)):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def _article_chunks(articles, chunk_size: int) -> Iterator[pd.DataFrame]:
    if isinstance(articles, pd.DataFrame):
        for i in range(0, len(articles), chunk_size):
            yield articles.iloc[i:i + chunk_size]
        return
    if isinstance(articles, (str, os.PathLike)):
        articles = [articles]
    articles = list(articles)
    if articles and all(isinstance(a, pd.DataFrame) for a in articles):
        for frame in articles:
            yield from _article_chunks(frame, chunk_size)
        return
    from .articles import iter_articles

    yield from iter_articles(articles, chunksize=chunk_size)


def _normalise_articles(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if "article_id" not in frame.columns:
        if "id" not in frame.columns:
            raise AnnotatorError("articles need an 'id' (or 'article_id') column")
        frame["article_id"] = frame["id"]
    for col in ("text", "title", "date", "outlet", "url", "error"):
        if col not in frame.columns:
            frame[col] = None
    return frame


def existing_tasks(studio: Studio, project_id: int, *, page_size: int = 1000) -> dict:
    """``{article_id: (task_id, set of prediction model versions, text)}`` for a project's tasks."""
    out = {}

    def fetch_page(page):
        r = studio.sdk._client_wrapper.httpx_client.request(
            "api/tasks/", method="GET",
            params={"project": project_id, "page": page, "page_size": page_size, "fields": "all",
                    "include": "id,data,predictions_model_versions"},
            request_options={"max_retries": 0})
        if r.status_code == 404:  # past the last page
            return None
        if r.status_code >= 400:
            from label_studio_sdk.core.api_error import ApiError

            try:
                body = r.json()
            except ValueError:
                body = r.text
            raise ApiError(status_code=r.status_code, headers=dict(r.headers), body=body)
        return r.json()

    page = 1
    while True:
        body = studio.call("list tasks", fetch_page, page)
        tasks = (body or {}).get("tasks") or []
        for t in tasks:
            data = t.get("data") or {}
            key = data.get("article_id")
            key = str(key) if key is not None else f"task-{t['id']}"
            versions = {v.strip() for v in str(t.get("predictions_model_versions") or "").split(",") if v.strip()}
            out.setdefault(key, (t["id"], versions, data))
        if body is None or len(tasks) < page_size or page * page_size >= int(body.get("total", 0)):
            break
        page += 1
    return out


def push(articles, project: str, *, tagger=None, url: str | None = None, api_key: str | None = None,
         studio: Studio | None = None, taxonomy: Taxonomy | None = None, chunk_size: int = 1000,
         progress: bool = True, offset_unit: str = "codepoint", data_dir=None) -> pd.DataFrame:
    """Import articles into the Label Studio project ``project`` as tasks with pre-annotations.

    Parameters
    ----------
    articles : DataFrame, path(s) or iterable of DataFrames
        A frame in the :mod:`annotator.articles` shape (``id``/``article_id``,
        ``text``, ``title``, ``date``, ``outlet``, ``url``, ``error``), or inputs
        for :func:`annotator.articles.iter_articles`. Rows with ``error`` set are
        reported (status ``error``) and not pushed.
    project : str
        Project title; created from ``taxonomy`` when missing. An existing
        project must have the same label set (else :class:`StudioError`).
    tagger : object, optional
        Anything with ``model_version`` and ``tag(texts) -> list of span dicts``
        (:func:`annotator.cues.load_tagger`). Each new task gets a prediction;
        existing tasks without a prediction of this ``model_version`` get one
        added (annotations are never touched). ``None``: no predictions.
    studio, url, api_key, data_dir :
        The server: a :class:`Studio`, or what :func:`resolve_connection` takes.
    chunk_size : int
        Tasks per ``import_tasks`` call.

    Returns
    -------
    pandas.DataFrame
        ``article_id, task_id, status, detail, project_id`` with status ``created``
        (new task), ``existing`` (already there, nothing to add), ``updated``
        (prediction of a new model version added) or ``error`` (bad input row,
        duplicate id; ``detail`` says why).

    Idempotent: tasks are keyed by ``data.article_id``; pushing the same
    articles again creates no task.
    """
    from tqdm.auto import tqdm

    taxonomy = taxonomy or load_taxonomy()
    studio = studio or connect(url, api_key, data_dir=data_dir)
    proj, created = studio.ensure_project(project, taxonomy)
    known = {} if created else existing_tasks(studio, proj.id)
    model_version = str(getattr(tagger, "model_version", "")) if tagger is not None else None
    rows: list[tuple] = []
    seen: set[str] = set()
    total = len(articles) if isinstance(articles, pd.DataFrame) else None
    bar = tqdm(total=total, unit="article", desc=f"push {project}", disable=not progress, file=sys.stderr,
               leave=False)
    try:
        for chunk in _article_chunks(articles, chunk_size):
            chunk = _normalise_articles(chunk)
            out_rows: list = [None] * len(chunk)  # summary rows in input order
            new, new_pos, update, update_pos = [], [], [], []
            for pos, rec in enumerate(chunk.itertuples(index=False)):
                aid = _json_value(rec.article_id)
                aid = None if aid is None else str(aid)
                err = _json_value(rec.error)
                if err:
                    out_rows[pos] = (aid, None, "error", str(err))
                elif aid is None or not isinstance(_json_value(rec.text), str) or not rec.text:
                    out_rows[pos] = (aid, None, "error", "missing article id or text")
                elif aid in seen:
                    out_rows[pos] = (aid, known.get(aid, (None,))[0], "error",
                                     "duplicate article id in the input (first occurrence pushed)")
                else:
                    seen.add(aid)
                    if aid in known:
                        task_id, versions, data = known[aid]
                        if model_version and model_version not in versions:
                            update.append((aid, task_id, data.get(taxonomy.text_field) or ""))
                            update_pos.append(pos)
                        else:
                            out_rows[pos] = (aid, task_id, "existing", "")
                    else:
                        new.append(rec)
                        new_pos.append(pos)
            if new:
                for pos, row in zip(new_pos, _import_new(studio, proj.id, new, tagger, model_version, taxonomy,
                                                         offset_unit, known)):
                    out_rows[pos] = row
            if update:
                for pos, row in zip(update_pos, _add_predictions(studio, proj.id, update, tagger, model_version,
                                                                 taxonomy, offset_unit, known)):
                    out_rows[pos] = row
            rows.extend(out_rows)
            bar.update(len(chunk))
    finally:
        bar.close()
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out["task_id"] = out["task_id"].astype("Int64")
    out["project_id"] = pd.Series([proj.id] * len(out), dtype="Int64")
    out.attrs.update({"project_id": proj.id, "project": project, "url": studio.url, "created_project": created})
    return out


def _tag(tagger, texts: list[str]) -> list[list[dict]]:
    spans = tagger.tag(texts)
    if len(spans) != len(texts):
        raise AnnotatorError(f"tagger returned {len(spans)} span lists for {len(texts)} texts")
    return spans


def _import_new(studio, project_id, recs, tagger, model_version, taxonomy, unit, known) -> list[tuple]:
    texts = [r.text for r in recs]
    spans = _tag(tagger, texts) if tagger is not None else [None] * len(recs)
    tasks = []
    for rec, sp in zip(recs, spans):
        data = {taxonomy.text_field: rec.text}
        for col in ("title", "date", "outlet", "url"):
            data[col] = _json_value(getattr(rec, col))
        data["article_id"] = str(rec.article_id)
        task = {"data": data}
        if sp is not None:
            task["predictions"] = [build_prediction(rec.text, sp, model_version, taxonomy, unit)]
        tasks.append(task)
    keys = [t["data"]["article_id"] for t in tasks]
    try:
        res = studio.call("import tasks", studio.sdk.projects.import_tasks, id=project_id, request=tasks,
                          return_task_ids=True, retry=False)
        ids = list(res.task_ids or [])
        if len(ids) != len(tasks):
            raise StudioError(f"import returned {len(ids)} task ids for {len(tasks)} tasks")
        mapping = dict(zip(keys, ids))
    except StudioError:
        # Unknown whether the import landed (timeout, 5xx): never import twice. Look at
        # what is there now and import only the missing tasks, with backoff.
        mapping = None
        for attempt in range(studio.retries):
            studio._sleep(attempt)
            now = existing_tasks(studio, project_id)
            missing = [t for t in tasks if t["data"]["article_id"] not in now]
            try:
                if missing:
                    studio.call("import tasks", studio.sdk.projects.import_tasks, id=project_id, request=missing,
                                return_task_ids=False, retry=False)
                now = existing_tasks(studio, project_id)
                mapping = {k: now[k][0] for k in keys if k in now}
                break
            except StudioError:
                if attempt == studio.retries - 1:
                    raise
        if mapping is None:
            raise StudioError(f"import into project {project_id} failed after {studio.retries} tries")
    out = []
    for k, t in zip(keys, tasks):
        tid = mapping.get(k)
        known[k] = (tid, {model_version} if model_version else set(), t["data"])
        out.append((k, tid, "created" if tid is not None else "error", "" if tid is not None else "not imported"))
    return out


def _add_predictions(studio, project_id, items, tagger, model_version, taxonomy, unit, known) -> list[tuple]:
    spans = _tag(tagger, [text for _, _, text in items])
    preds = []
    for (aid, tid, text), sp in zip(items, spans):
        p = build_prediction(text, sp, model_version, taxonomy, unit)
        p["task"] = tid
        preds.append(p)
    studio.call("import predictions", studio.sdk.projects.import_predictions, id=project_id, request=preds,
                retry=False)
    out = []
    for aid, tid, _ in items:
        known[aid][1].add(model_version)
        out.append((aid, tid, "updated", f"prediction {model_version} added"))
    return out


# --- pull -------------------------------------------------------------------------------------


def export_tasks(studio: Studio, project_id: int, *, timeout: float = 900, keep: bool = False) -> list[dict]:
    """All tasks of a project as full Label Studio JSON, through the snapshot export API.

    Annotations carry ``completed_by`` as ``{id, email, ...}``; predictions and
    drafts are ids only. The snapshot is deleted from the server afterwards
    unless ``keep``.
    """
    sdk = studio.sdk
    exp = studio.call("create export", sdk.projects.exports.create, project_id,
                      title=f"annotator pull {_now()}",
                      serialization_options={"predictions": {"only_id": True}, "drafts": {"only_id": True},
                                             "annotations__completed_by": {"only_id": False}},
                      # without a job queue Label Studio builds the snapshot inside this request
                      request_options={"timeout_in_seconds": max(studio.timeout, timeout)},
                      retry=False)
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        st = studio.call("export status", sdk.projects.exports.get, project_id, exp.id)
        status = str(getattr(st, "status", "") or "")
        if status == "completed":
            break
        if status == "failed":
            raise StudioError(f"Label Studio could not export project {project_id} (export {exp.id} failed): "
                              "see the server log")
        if time.monotonic() > deadline:
            raise StudioError(f"export of project {project_id} not ready after {timeout:.0f} s: retry later")
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)

    def download():
        return b"".join(sdk.projects.exports.download(project_id, exp.id, export_type="JSON",
                                                      request_options={"timeout_in_seconds": max(studio.timeout, 300)}))

    raw = studio.call("download export", download)
    if not keep:
        try:
            studio.call("delete export", sdk.projects.exports.delete, project_id, exp.id, retry=False)
        except StudioError:
            pass
    try:
        return json.loads(raw)
    except ValueError:
        raise StudioError(f"Label Studio sent an export of project {project_id} that is not JSON") from None


def _annotator(completed_by) -> str:
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("id"))
    return str(completed_by)


def tasks_to_dataset(tasks: list[dict], taxonomy: Taxonomy, corpus: str, *, unit: str = "codepoint",
                     meta: dict | None = None) -> Dataset:
    """Label Studio export JSON -> :class:`Dataset` (rules in :func:`pull`)."""
    art, docs, spans, mism = [], [], [], []
    counts = {"tasks": len(tasks), "annotations": 0, "cancelled": 0, "drafts_excluded": 0,
              "duplicate_annotations_dropped": 0, "unknown_labels": 0}
    label_set = set(taxonomy.label_ids)
    for t in tasks:
        data = t.get("data") or {}
        aid = data.get("article_id")
        aid = str(aid) if aid is not None else f"task-{t['id']}"
        text = data.get(taxonomy.text_field)
        text = text if isinstance(text, str) else ""
        art.append({"article_id": aid, "text": text, "title": data.get("title"), "date": data.get("date"),
                    "outlet": data.get("outlet"), "url": data.get("url"), "corpus": corpus})
        counts["drafts_excluded"] += len(t.get("drafts") or [])
        latest: dict[str, dict] = {}
        for a in t.get("annotations") or []:
            who = _annotator(a.get("completed_by"))
            prev = latest.get(who)
            if prev is not None:
                counts["duplicate_annotations_dropped"] += 1
                if str(a.get("updated_at") or "") < str(prev.get("updated_at") or ""):
                    continue
            latest[who] = a
        for who, a in latest.items():
            counts["annotations"] += 1
            cancelled = bool(a.get("was_cancelled"))
            counts["cancelled"] += cancelled
            result = a.get("result") or []
            rating = None
            reliability = {}
            for r in result:
                v = r.get("value") or {}
                if r.get("from_name") == taxonomy.rating_from_name and v.get("choices"):
                    rating = v["choices"][0]
                elif r.get("from_name") == taxonomy.reliability_from_name and v.get("choices"):
                    reliability[r.get("id")] = v["choices"][0]
            lt = a.get("lead_time")
            docs.append({"article_id": aid, "annotator": who, "framing_risk": None if cancelled else rating,
                         "lead_time": float(lt) if lt is not None else math.nan,
                         "created_at": a.get("created_at"), "updated_at": a.get("updated_at"),
                         "cancelled": cancelled})
            if cancelled:
                continue
            for r in result:
                if r.get("from_name") != taxonomy.span_from_name:
                    continue
                v = r.get("value") or {}
                if "start" not in v or "end" not in v:
                    continue
                s, e = ls_to_py_offsets(text, v["start"], v["end"], unit)
                piece = text[s:e]
                for label in v.get("labels") or []:
                    if label not in label_set:
                        counts["unknown_labels"] += 1
                    spans.append({"article_id": aid, "annotator": who, "label": label, "start": s, "end": e,
                                  "text": piece, "reliability": reliability.get(r.get("id"))})
                    stored = v.get("text")
                    if isinstance(stored, str) and stored != piece and _norm_ws(stored) != _norm_ws(piece):
                        mism.append({"article_id": aid, "annotator": who, "label": label, "start": s, "end": e,
                                     "stored_text": stored, "article_text": piece})
    meta = dict(meta or {})
    meta.update(counts)
    meta["offset_unit"] = unit
    meta["span_mismatches"] = mism
    return Dataset(pd.DataFrame(art), pd.DataFrame(docs), pd.DataFrame(spans), meta)


def span_mismatches(dataset: Dataset) -> pd.DataFrame:
    """Spans whose text stored by Label Studio differs from the article at their offsets (from :func:`pull`)."""
    return pd.DataFrame(dataset.meta.get("span_mismatches") or [], columns=MISMATCH_COLUMNS)


def pull(project: str, out: str | os.PathLike | None = None, *, url: str | None = None, api_key: str | None = None,
         studio: Studio | None = None, offset_unit: str = "codepoint", data_dir=None,
         export_timeout: float = 900) -> Dataset:
    """Export a project through the snapshot API into a :class:`Dataset` (written atomically to ``out``).

    * ``articles``: one row per task (text and metadata from the task data;
      ``corpus`` is the project title; tasks without ``article_id`` get
      ``task-<id>``), annotated or not.
    * ``documents``: one row per (task, annotator): the annotator's email (or
      user id), framing-risk rating, ``lead_time``, ``created_at``,
      ``updated_at``, ``cancelled`` (a skipped annotation: no rating, no spans).
      When one user has several annotations on a task, the latest wins.
      Drafts (unsubmitted work) are excluded; ``meta["drafts_excluded"]``
      counts them.
    * ``spans``: one row per labelled region of a submitted annotation, with
      the reliability choice of the same region id. Offsets are Python
      indices; ``text`` is the article text at them. Spans whose text stored by
      Label Studio differs (whitespace aside) are listed in
      ``meta["span_mismatches"]`` (:func:`span_mismatches` gives a DataFrame)
      and reported with a :class:`StudioWarning`.

    The label roles come from the project's own config, so a pull works even if
    our ``framing.xml`` has moved on. A re-pull replaces ``out``.
    """
    studio = studio or connect(url, api_key, data_dir=data_dir)
    proj = studio.get_project(project)
    try:
        taxonomy = parse_taxonomy(proj.label_config or "", f"project {project!r} config")
    except TaxonomyError as exc:
        raise StudioError(f"project {project!r} at {studio.url} is not an annotator project: {exc}") from None
    tasks = export_tasks(studio, proj.id, timeout=export_timeout)
    meta = {"source": "label-studio", "url": studio.url, "project": project, "project_id": proj.id,
            "label_studio_version": studio._version, "pulled_at": _now(), "config_hash": taxonomy.config_hash}
    ds = tasks_to_dataset(tasks, taxonomy, project, unit=offset_unit, meta=meta)
    n = len(ds.meta["span_mismatches"])
    if n:
        first = ds.meta["span_mismatches"][0]
        warnings.warn(f"{n} span(s) whose stored text differs from the article at their offsets "
                      f"(first: article {first['article_id']} [{first['start']}, {first['end']}) "
                      f"{first['stored_text'][:40]!r} vs {first['article_text'][:40]!r}); "
                      "the dataset keeps the article text", StudioWarning, stacklevel=2)
    if out is not None:
        write_dataset(ds, out)
    return ds


# --- small helpers for the CLI ----------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` to CSV atomically."""
    from .io import atomic_output

    with atomic_output(path, "w") as f:
        frame.to_csv(f, index=False)