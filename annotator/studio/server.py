"""Starting and stopping a Label Studio process: environment, free port, health wait, the migrated template.

The server is the installed ``label-studio`` package bound to 127.0.0.1, with
its data in a given folder, sqlite, and no outbound calls (analytics, version
check and Sentry are off). :func:`ensure_template` makes a migrated data dir
once (usually 1-3 minutes); :class:`TemplateServer` starts a throwaway server on a
copy of it in about 5 s (tests and benchmarks).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ..io import atomic_folder, write_json_atomic
from .errors import StudioError
from .files import CREDENTIALS_FILE, LOG_FILE, read_json, utc_now
from .rest import is_up

__all__ = ["LS_VERSION", "ADMIN_EMAIL", "template_cache_dir", "free_port", "port_busy", "server_env", "start_server",
           "wait_healthy", "stop_server", "alive", "is_label_studio", "PortTaken", "new_credentials", "ensure_template",
           "copy_template", "TemplateServer"]

LS_VERSION = "1.23.2"
ADMIN_EMAIL = "admin@annotator.localhost"


def template_cache_dir() -> Path:
    """Where the migrated template is cached: ``$ANNOTATOR_LS_TEMPLATE``, else
    ``$XDG_CACHE_HOME/annotator/ls-template-<version>`` (``~/.cache/...``)."""
    if os.environ.get("ANNOTATOR_LS_TEMPLATE"):
        return Path(os.environ["ANNOTATOR_LS_TEMPLATE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "annotator" / f"ls-template-{LS_VERSION}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_busy(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
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
        # the annotator backend runs beside it on 127.0.0.1: since 1.23.1 Label Studio blocks loopback ML
        # backends (ML_BLOCK_LOCAL_IP) and loopback webhooks (SSRF_PROTECTION_ENABLED, which carries the
        # annotation events that trigger retraining) by default. This server listens on 127.0.0.1 only.
        "ML_BLOCK_LOCAL_IP": "false", "SSRF_PROTECTION_ENABLED": "false",
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


def alive(pid: int, proc: subprocess.Popen | None = None) -> bool:
    """Whether the process ``pid`` (or ``proc``) runs; a zombie counts as dead."""
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


def is_label_studio(pid: int) -> bool:
    """Whether ``pid`` runs Label Studio (a recycled PID does not); ``True`` where there is no procfs."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        return b"label-studio" in cmdline or b"label_studio" in cmdline
    except OSError:
        return not Path("/proc").is_dir()  # no procfs: trust the state file


def _read(path) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _log_tail(log_path, n: int = 3) -> str:
    lines = [ln.strip() for ln in _read(log_path).splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


class PortTaken(StudioError):
    """Label Studio found its port taken and moved to another one (it does that silently)."""

    def __init__(self, port):
        super().__init__(f"port {port} was taken while Label Studio started")


def applied_migrations(ls_data_dir) -> int | None:
    """How many database migrations Label Studio has applied so far (``None`` while that cannot be read)."""
    db = Path(ls_data_dir) / "label_studio.sqlite3"
    if not db.is_file():
        return None
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=0.2) as con:
            return int(con.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0])
    except sqlite3.Error:  # no table yet, or locked by the migration being applied
        return None


def _migration_note(ls_data_dir) -> str:
    n = applied_migrations(ls_data_dir)
    return f", {n} migrations applied" if n else ""


def wait_healthy(url: str, *, proc: subprocess.Popen | None = None, pid: int | None = None, port: int | None = None,
                 log_path=None, timeout: float = 300, progress: bool = True, what: str = "Label Studio",
                 migrating=None) -> float:
    """Poll ``GET url/health`` until ``{"status": "UP"}``; return seconds waited.

    Fails early when the process exits or when Label Studio moved to another
    port because ``port`` was taken (:class:`PortTaken`). With ``progress`` a
    line with the time waited is printed every 15 s (updated in place on a
    terminal); ``migrating`` (a first start: Label Studio's data dir) makes it
    say so, with the number of migrations applied so far.
    """
    t0 = time.monotonic()
    tty = progress and sys.stderr.isatty()
    last_note = 0.0
    while True:
        waited = time.monotonic() - t0
        if pid is not None and not alive(pid, proc):
            raise StudioError(f"{what} exited while starting (see {log_path}: {_log_tail(log_path)})")
        if log_path and port and "is in use" in _read(log_path):
            raise PortTaken(port)
        if is_up(url, timeout=2):
            if tty:
                sys.stderr.write("\n")
            return waited
        if waited > timeout:
            raise StudioError(f"{what} did not answer {url}/health within {timeout:.0f} s (see {log_path})")
        if progress and (tty or waited - last_note >= 15):
            msg = f"annotator: waiting for {what} at {url} ... {waited:4.0f} s"
            if migrating is not None:
                msg = (f"annotator: {what} is migrating its database ... {_elapsed(waited)}"
                       f"{_migration_note(migrating)}")
            sys.stderr.write(("\r" + msg) if tty else (msg + "\n"))
            sys.stderr.flush()
            last_note = waited
        time.sleep(0.5)


def _elapsed(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def stop_server(pid: int, proc: subprocess.Popen | None = None, timeout: float = 20) -> bool:
    """SIGTERM the server's process group (it was started in its own session), SIGKILL after ``timeout``."""
    if not alive(pid, proc):
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
            elif not alive(pid):
                return True
            time.sleep(0.1)
    return not alive(pid, proc)


def new_credentials() -> dict:
    """A fresh admin login and legacy API token: ``{"email", "password", "api_key"}``."""
    return {"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(18), "api_key": secrets.token_hex(20)}


class _MadeMeanwhile(Exception):
    """Another process finished the same template first: keep theirs."""


def _template_ready(cache_dir: Path) -> bool:
    return (cache_dir / "READY").exists() and (cache_dir / CREDENTIALS_FILE).exists()


def ensure_template(cache_dir: str | os.PathLike, *, progress: bool = True) -> tuple[Path, dict]:
    """A migrated Label Studio data dir made once with ``label-studio init`` (usually 1-3 minutes).

    Returns ``(ls_dir, credentials)``: copy ``ls_dir`` (:func:`copy_template`)
    and start on the copy, about 5 s instead of minutes. The admin user, password and
    legacy token (random, made with the template) are baked into every copy and
    kept in ``cache_dir/credentials.json`` (mode 0600): for tests and benchmarks
    on throwaway loopback servers. An incomplete ``cache_dir`` (or one from an
    older layout) is replaced.
    """
    cache_dir = Path(cache_dir)
    ls_dir = cache_dir / "ls"
    if _template_ready(cache_dir):
        return ls_dir, read_json(cache_dir / CREDENTIALS_FILE)
    try:
        with atomic_folder(cache_dir) as tmp:
            if progress:
                print(f"annotator: making a Label Studio {LS_VERSION} template in {cache_dir} "
                      "(once: it migrates a database, usually 1-3 minutes)", file=sys.stderr, flush=True)
            creds = new_credentials()
            write_json_atomic(tmp / CREDENTIALS_FILE, creds, private=True)
            _init_data_dir(tmp / "ls", creds)
            (tmp / "READY").write_text(json.dumps({"version": LS_VERSION, "made_at": utc_now()}))
            if _template_ready(cache_dir):  # made concurrently by someone else
                raise _MadeMeanwhile
    except _MadeMeanwhile:
        pass
    return ls_dir, read_json(cache_dir / CREDENTIALS_FILE)


def _init_data_dir(ls_dir: Path, creds: dict) -> None:
    env = server_env(ls_dir)
    ls_dir.mkdir()
    r = subprocess.run(
        [_label_studio_exe(), "init", "-q", "--username", creds["email"], "--password", creds["password"],
         "--user-token", creds["api_key"], "--enable-legacy-api-token"],
        env=env, cwd=str(ls_dir), stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    if r.returncode != 0 or not (ls_dir / "label_studio.sqlite3").exists():
        raise StudioError(f"label-studio init failed: {(r.stdout + r.stderr).strip().splitlines()[-1:]}")


def copy_template(template: str | os.PathLike, ls_dir: str | os.PathLike) -> None:
    """Replace ``ls_dir`` with a copy of the migrated data dir ``template`` (atomically)."""
    with atomic_folder(ls_dir) as tmp:
        shutil.copytree(template, tmp, symlinks=True, dirs_exist_ok=True)


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
        """Copy the template, start the server on a free port and wait until it is healthy."""
        self.template, self.credentials = ensure_template(self.cache_dir)
        ls_dir = self.work_dir / "ls"
        copy_template(self.template, ls_dir)
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
            except PortTaken:
                self.stop()
            except BaseException:
                self.stop()
                raise
        raise StudioError("could not start Label Studio on a free port")

    def stop(self) -> None:
        """Stop the server (by PID) if it runs."""
        if self.proc is not None:
            stop_server(self.proc.pid, self.proc)
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
