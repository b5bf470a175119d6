"""The Label Studio client: SDK 2.x calls retried with backoff, failures mapped to one-line :class:`StudioError`.

:class:`Studio` wraps ``label_studio_sdk.LabelStudio`` (public API only);
:func:`connect` builds one for :func:`annotator.studio.connection.resolve_connection`'s answer.
"""
from __future__ import annotations

import json
import random
import re
import time

from ..taxonomy import Taxonomy
from .connection import Connection, resolve_connection
from .errors import StudioError
from .projects import ensure_project, get_project, projects_by_title
from .rest import get_version

__all__ = ["Studio", "connect"]

_LEGACY_DISABLED = "legacy token authentication has been disabled"


class Studio:
    """A Label Studio client (SDK 2.x ``LabelStudio``) whose failures are one-line :class:`StudioError`\\ s.

    Idempotent calls are retried on timeouts, connection resets, 429 and 5xx
    with exponential backoff (``retries`` tries after the first). ``version``
    is the server's release once :meth:`check` has run.
    """

    def __init__(self, connection: Connection, *, timeout: float = 60, retries: int = 3, backoff: float = 1.0):
        from label_studio_sdk import LabelStudio  # lazy: the SDK (pydantic models) loads in seconds

        self.connection = connection
        self.url = connection.url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sdk = self.call("connect", lambda: LabelStudio(base_url=connection.url, api_key=connection.api_key,
                                                            timeout=timeout, max_retries=0), retry=False)
        self.version = None

    # error handling
    def call(self, what: str, fn, *args, retry: bool = True, **kwargs):
        """Run ``fn(*args, **kwargs)``, translating failures into :class:`StudioError`."""
        import httpx  # lazy: only the studio commands talk HTTP
        from label_studio_sdk.core.api_error import ApiError  # lazy: the SDK loads in seconds

        tries = 1 + (self.retries if retry else 0)
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                return fn(*args, **kwargs)
            except ApiError as exc:
                code = exc.status_code or 0
                if (code >= 500 or code in (408, 429)) and not last:
                    self.pause(attempt)
                    continue
                raise self._api_error(exc, what, attempt + 1) from None
            except httpx.TimeoutException:
                if not last:
                    self.pause(attempt)
                    continue
                raise StudioError(f"Label Studio at {self.url} did not answer ({what}) within {self.timeout:g} s, "
                                  f"{attempt + 1} tries: it may be overloaded; retry later or raise --timeout"
                                  ) from None
            except httpx.ConnectError as exc:
                if attempt < min(1, tries - 1):
                    self.pause(attempt, 0.5)
                    continue
                raise StudioError(f"cannot connect to Label Studio at {self.url} ({_reason(exc)}): is it running? "
                                  "Start the local one with 'annotator studio up' or set LABEL_STUDIO_URL") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if not last:
                    self.pause(attempt)
                    continue
                raise StudioError(f"Label Studio at {self.url} dropped the connection ({what}: {_reason(exc)}), "
                                  f"{attempt + 1} tries: see its log") from None
            except httpx.HTTPError as exc:
                raise StudioError(f"Label Studio at {self.url}: {what} failed: {_reason(exc)}") from None

    def pause(self, attempt: int, base: float | None = None) -> None:
        """Sleep before retry number ``attempt + 1``: exponential backoff with jitter, at most 30 s."""
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
        from label_studio_sdk.core.api_error import ApiError  # lazy: the SDK loads in seconds

        def version_response():
            r = get_version(self.url, timeout=self.timeout)
            if r.status_code >= 500 or r.status_code in (408, 429):
                raise ApiError(status_code=r.status_code, headers=dict(r.headers), body=r.text)
            return r

        r = self.call("version", version_response)
        try:
            version = r.json().get("release") if r.status_code == 200 else None
        except (ValueError, AttributeError):
            version = None
        user = self.call("authentication", self.sdk.users.whoami)
        self.version = version
        return {"version": version, "user": getattr(user, "email", None) or getattr(user, "id", None)}

    # projects (annotator.studio.projects)
    def projects_by_title(self, title: str) -> list:
        """The projects titled exactly ``title``."""
        return projects_by_title(self, title)

    def get_project(self, title: str):
        """The one project titled ``title`` (:class:`StudioError` when none or several)."""
        return get_project(self, title)

    def ensure_project(self, title: str, taxonomy: Taxonomy, create: bool = True):
        """The project titled ``title``, created when missing: ``(project, created)`` (see :mod:`.projects`)."""
        return ensure_project(self, title, taxonomy, create)


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
