"""The local Label Studio behind ``annotator studio up | down | status``: its data dir, state and credentials.

Label Studio from the installed ``label-studio`` package, bound to 127.0.0.1 on
a free port, data under a user data dir (default
``$XDG_DATA_HOME/annotator/studio``, i.e. ``~/.local/share/annotator/studio``),
with an admin user and a random legacy API token created non-interactively.
``up`` writes ``state.json`` (pid, port, url) and ``credentials.json`` (mode
0600: url, email, password, api_key) in the data dir.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from ..io import write_json_atomic
from .errors import StudioError
from .files import CREDENTIALS_FILE, LOG_FILE, STATE_FILE, read_json, utc_now
from .rest import is_up
from .server import (LS_VERSION, PortTaken, alive, copy_template, free_port, is_label_studio, new_credentials,
                     port_busy, server_env, start_server, stop_server, wait_healthy)

__all__ = ["default_data_dir", "LocalStudio"]


def default_data_dir() -> Path:
    """``$ANNOTATOR_STUDIO_DIR``, else ``$XDG_DATA_HOME/annotator/studio`` (``~/.local/share/...``)."""
    if os.environ.get("ANNOTATOR_STUDIO_DIR"):
        return Path(os.environ["ANNOTATOR_STUDIO_DIR"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "annotator" / "studio"


def _port_in_use(port: int) -> StudioError:
    return StudioError(f"port {port} on 127.0.0.1 is in use: choose another --port or omit it")


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
        """``state.json`` (pid, port, url, version, started_at), ``None`` when the server was not started."""
        return read_json(self.state_path)

    def credentials(self) -> dict | None:
        """``credentials.json`` (url, email, password, api_key), ``None`` before the first start."""
        return read_json(self.credentials_path)

    def status(self) -> dict:
        """``{"running": bool, "url", "pid", "port", "data_dir", "credentials"}``."""
        st = self.state() or {}
        pid = st.get("pid")
        running = bool(pid) and alive(pid) and is_label_studio(pid)
        healthy = running and is_up(st["url"], timeout=3)
        return {"running": running, "healthy": healthy, "url": st.get("url") if running else None,
                "pid": pid if running else None, "port": st.get("port") if running else None,
                "data_dir": str(self.data_dir), "credentials": str(self.credentials_path)}

    def up(self, port: int | None = None, *, timeout: float = 300, progress: bool = True,
           template: str | os.PathLike | None = None, template_credentials: dict | None = None) -> dict:
        """Start the server unless it runs; return :meth:`status`. First start: 1-3 minutes (migrations).

        ``template`` (tests and benchmarks): on a first start, copy this migrated
        Label Studio data dir (:func:`annotator.studio.server.ensure_template`)
        instead of migrating, and use ``template_credentials`` (``email``,
        ``password``, ``api_key``) baked into it.
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
            copy_template(template, self.ls_dir)
            write_json_atomic(self.credentials_path, dict(template_credentials), private=True)
            first = False
        self.ls_dir.mkdir(exist_ok=True)
        creds = self._credentials_for_start(first)
        self.state_path.unlink(missing_ok=True)
        # Passed on every start: Label Studio creates the admin (with this token) only when it is
        # missing, so this is idempotent and also recovers a first start interrupted mid-migration.
        env = server_env(self.ls_dir, email=creds["email"], password=creds["password"], token=creds["api_key"])
        if progress and first:
            print("annotator: first start of Label Studio: it migrates its database, usually 1-3 minutes "
                  "(later starts take seconds); a progress line follows every 15 s", file=sys.stderr, flush=True)
        return self._start(creds, env, port, timeout=timeout, progress=progress, first=first)

    def _credentials_for_start(self, first: bool) -> dict:
        creds = self.credentials()
        if creds is None:
            if not first:
                raise StudioError(f"{self.ls_dir} has a database but {self.credentials_path} is missing: "
                                  f"restore it, or move {self.data_dir} away to start afresh")
            creds = new_credentials()
            write_json_atomic(self.credentials_path, creds, private=True)
        return creds

    def _start(self, creds: dict, env: dict, port: int | None, *, timeout: float, progress: bool,
               first: bool = False) -> dict:
        """Start on ``port`` (else the previous port, else a free one) and record the state."""
        previous = re.search(r":(\d+)$", str(creds.get("url") or ""))
        for attempt in range(3):
            p = port or (int(previous.group(1)) if previous and attempt == 0 else free_port())
            if port_busy(p):
                if port:
                    raise _port_in_use(p)
                continue
            self.log_path.write_bytes(b"")
            proc = start_server(self.ls_dir, p, self.log_path, env)
            url = f"http://127.0.0.1:{p}"
            try:
                wait_healthy(url, proc=proc, pid=proc.pid, port=p, log_path=self.log_path, timeout=timeout,
                             progress=progress, migrating=self.ls_dir if first else None)
            except PortTaken:
                stop_server(proc.pid, proc)
                if port:
                    raise _port_in_use(p) from None
                continue
            except BaseException:
                stop_server(proc.pid, proc)
                raise
            creds["url"] = url
            write_json_atomic(self.credentials_path, creds, private=True)
            write_json_atomic(self.state_path, {"pid": proc.pid, "port": p, "url": url, "version": LS_VERSION,
                                                "started_at": utc_now()}, private=True)
            return self.status()
        raise StudioError("could not find a free port on 127.0.0.1 for Label Studio")

    def down(self, timeout: float = 30) -> bool:
        """Stop the server by its PID (SIGTERM); ``False`` if it was not running."""
        st = self.state()
        if not st:
            return False
        pid = st.get("pid")
        stopped = False
        if pid and alive(pid) and is_label_studio(pid):
            stopped = stop_server(pid, timeout=timeout)
        self.state_path.unlink(missing_ok=True)
        return stopped
