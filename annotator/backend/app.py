"""The backend's WSGI application: routes, basic auth, JSON in and out, one-line errors, logs without secrets.

Routes (Label Studio's ML backend protocol, :mod:`annotator.backend.protocol`): ``GET /health``,
``POST /setup``, ``POST /predict``, ``POST /webhook``, ``GET /versions`` (``?project=ID`` adds
``current``: the version served to that project), and ``GET /status`` (queue, running job, last
training per project, Label Studio reachability) for ``annotator backend status``.

A malformed body gets 400 with ``{"error": "<one line>"}``; an unexpected failure 500 with a
one-line error (the traceback goes to the log, never to the client). The access log names method,
path, status and milliseconds: never a body (``/setup`` carries an API token) nor a header.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import threading
import time
from urllib.parse import parse_qs

from ..errors import AnnotatorError
from ..studio.rest import is_up
from ..taxonomy import Taxonomy, load_taxonomy
from .models import ModelHolder
from .protocol import (TRAINING_ACTIONS, BadRequest, check_config, parse_json, parse_predict, parse_setup,
                       parse_webhook, predict_results, project_id)
from .registry import Registry, project_ids
from .trainer import Trainer

__all__ = ["BackendApp", "MAX_BODY"]

log = logging.getLogger("annotator.backend")

#: Largest request body accepted (a predict batch of many long articles fits easily).
MAX_BODY = 64 * 1024 * 1024

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error"}


class BackendApp:
    """The WSGI application.

    Parameters
    ----------
    holder : ModelHolder
    trainer : Trainer or None
        ``None``: webhooks are acknowledged, nothing trains.
    studio_url, api_key : str or None
        The Label Studio that training pulls from; ``None``: the ``hostname`` and token that
        ``/setup`` sends for each project (kept in memory only).
    auth : (user, password) or None
        Basic auth required on every route.
    taxonomy : Taxonomy
        The label set the model serves (default: ``label_config/framing.xml``).
    """

    def __init__(self, holder: ModelHolder, trainer: Trainer | None = None, *, studio_url: str | None = None,
                 api_key: str | None = None, auth: tuple | None = None, taxonomy: Taxonomy | None = None):
        self.holder = holder
        self.trainer = trainer
        self.studio_url = studio_url.rstrip("/") if studio_url else None
        self._api_key = api_key
        self._auth = auth
        self.taxonomy = taxonomy or load_taxonomy()
        self._setups: dict[int, tuple] = {}
        self._lock = threading.Lock()
        self.started = time.time()

    def connection(self, pid: int):
        """``(url, api_key)`` of the Label Studio that ``pid`` lives on, or ``None``."""
        if self.studio_url:
            return self.studio_url, self._api_key
        with self._lock:
            return self._setups.get(pid)

    # WSGI
    def __call__(self, environ, start_response):
        t0 = time.perf_counter()
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/").rstrip("/") or "/"
        try:
            status, payload = self._dispatch(environ, method, path)
        except BadRequest as exc:
            status, payload = 400, {"error": str(exc)}
        except AnnotatorError as exc:
            log.warning("%s %s: %s", method, path, exc)
            status, payload = 500, {"error": str(exc).splitlines()[0]}
        except Exception as exc:  # a bug: the traceback to the log, one line to the client
            log.exception("%s %s failed", method, path)
            status, payload = 500, {"error": f"internal error ({exc.__class__.__name__}): see the backend log"}
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="annotator backend"'))
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        log.info("%s %s %d %.0f ms", method, path, status, 1000 * (time.perf_counter() - t0))
        return [body]

    def _dispatch(self, environ, method: str, path: str):
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            return 401, {"error": "basic auth required"}
        routes = {("GET", "/health"): self.health, ("GET", "/"): self.health, ("POST", "/setup"): self.setup,
                  ("POST", "/predict"): self.predict, ("POST", "/webhook"): self.webhook,
                  ("GET", "/versions"): self.versions, ("GET", "/status"): self.status,
                  ("POST", "/rollback"): self.rollback}
        handler = routes.get((method, path))
        if handler is None:
            if any(p == path for _, p in routes):
                return 405, {"error": f"{method} not allowed on {path}"}
            return 404, {"error": f"no route {path}"}
        if method == "GET":
            return handler(parse_qs(environ.get("QUERY_STRING", "")))
        return handler(parse_json(_read_body(environ)))

    def _authorised(self, header: str) -> bool:
        if self._auth is None:
            return True
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self._auth[0]) & hmac.compare_digest(password, self._auth[1])

    # routes
    def health(self, _query):
        return 200, {"status": "UP", "model_class": "annotator.FramingModel",
                     "model_version": self.holder.base().version if self.holder.loaded else None}

    def setup(self, data):
        req = parse_setup(data)
        check_config(self.taxonomy, req.schema)
        if req.hostname and req.access_token:
            with self._lock:
                self._setups[req.project_id] = (req.hostname.rstrip("/"), req.access_token)
        return 200, {"model_version": self.holder.version(req.project_id)}

    def predict(self, data):
        req = parse_predict(data, self.taxonomy.text_field)
        served = self.holder.get(req.project_id)
        results = predict_results(served.model, served.version, req.texts, self.taxonomy)
        return 200, {"results": results, "model_version": served.version}

    def webhook(self, data):
        event = parse_webhook(data)
        if event.action not in TRAINING_ACTIONS:
            return 200, {"status": "ignored", "action": event.action}
        if self.trainer is None:
            return 200, {"status": "ignored", "reason": "training is off (--no-train)"}
        return 200, {"status": "queued", **self.trainer.enqueue(event.project_id)}

    def versions(self, query):
        pid = project_id((query.get("project") or [None])[0])
        base = self.holder.base().version
        pids = [pid] if pid is not None else project_ids(self.holder.data_dir)
        versions = [base] + [v.version for p in pids for v in Registry(self.holder.data_dir, p).versions()]
        out = {"versions": versions, "base": base}
        if pid is not None:
            out["current"] = self.holder.version(pid)
        return 200, out

    def rollback(self, data):
        """Serve another registered version of a project (``annotator backend rollback``)."""
        pid = project_id(data.get("project"))
        version = data.get("version")
        if pid is None or not isinstance(version, str):
            raise BadRequest("rollback needs 'project' (an id) and 'version' (a registered version, or 'base')")
        target = None if version == "base" else version
        reg = Registry(self.holder.data_dir, pid)
        old = self.holder.version(pid)
        reg.set_current(target)
        served = self.holder.swap(pid, target)
        where = self.connection(pid)
        renamed = self.trainer.retitle(pid, *where, old, served.version) if self.trainer and where else \
            "Label Studio not told (no connection known): 'annotator push --project NAME' reconnects"
        return 200, {"project": pid, "current": served.version, "previous": old, "label_studio": renamed}

    def status(self, _query):
        projects = {}
        for pid in sorted(set(project_ids(self.holder.data_dir)) | set(self._setups)):
            reg = Registry(self.holder.data_dir, pid).read()
            projects[str(pid)] = {"current": self.holder.version(pid), "versions": len(reg["versions"]),
                                  "last_training": reg["last_training"]}
        with self._lock:
            urls = sorted({self.studio_url} if self.studio_url else {u for u, _ in self._setups.values()})
        return 200, {"base": self.holder.base().version, "projects": projects,
                     "label_studio": {u: "up" if is_up(u, timeout=2) else "unreachable" for u in urls},
                     "uptime_seconds": round(time.time() - self.started),
                     "training": self.trainer.status() if self.trainer else None}


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("bad Content-Length") from None
    if length > MAX_BODY:
        raise BadRequest(f"body of {length} bytes is over the {MAX_BODY // 2**20} MB limit")
    return environ["wsgi.input"].read(length) if length else b""
