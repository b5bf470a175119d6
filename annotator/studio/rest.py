"""The plain HTTP calls Label Studio's SDK has no public method for: ``GET /health`` and ``GET /api/version``.

Both are documented, unauthenticated endpoints: ``/health`` says whether a
starting server is up; ``/api/version`` is read without credentials so that
reachability is told apart from a refused key. Everything else goes through
the SDK (:mod:`annotator.studio.client`).
"""
from __future__ import annotations

__all__ = ["is_up", "get_version"]


def is_up(url: str, *, timeout: float) -> bool:
    """Whether ``url/health`` answers ``{"status": "UP"}`` now (``False`` on any HTTP failure)."""
    import httpx  # lazy: only the studio commands talk HTTP

    try:
        r = httpx.get(url.rstrip("/") + "/health", timeout=timeout, trust_env=False)
        return r.status_code == 200 and r.json().get("status") == "UP"
    except (httpx.HTTPError, ValueError):
        return False


def get_version(url: str, *, timeout: float):
    """The ``httpx.Response`` of ``GET url/api/version`` (HTTP errors propagate for the caller to map)."""
    import httpx  # lazy: only the studio commands talk HTTP

    return httpx.get(url + "/api/version", timeout=timeout)
