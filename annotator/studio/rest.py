"""The plain HTTP calls Label Studio's SDK has no public method for: ``/health``, ``/api/version``, the sign-up form.

``/health`` and ``/api/version`` are documented, unauthenticated endpoints:
``/health`` says whether a starting server is up; ``/api/version`` is read
without credentials so that reachability is told apart from a refused key.
:func:`sign_up` fills in the sign-up form behind the organization's invite link
(Label Studio's documented way to add people; the API's user creation sets no
password). Everything else goes through the SDK (:mod:`annotator.studio.client`).
"""
from __future__ import annotations

import html
import re

from .errors import StudioError

__all__ = ["is_up", "get_version", "sign_up"]


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


def sign_up(url: str, invite_path: str, email: str, password: str, *, timeout: float) -> None:
    """Create the account ``email`` with ``password`` through the invite link ``invite_path`` (``/user/signup/?token=...``).

    :class:`StudioError` with the form's own message when Label Studio refuses
    it; HTTP failures propagate for the caller to map. The link is a secret: it is
    never put into a message.
    """
    import httpx  # lazy: only the studio commands talk HTTP

    with httpx.Client(base_url=url, timeout=timeout, trust_env=False, follow_redirects=False) as client:
        page = client.get(invite_path)
        csrf = client.cookies.get("csrftoken")
        if page.status_code != 200 or not csrf:
            raise StudioError(f"Label Studio at {url} did not offer its sign-up form (HTTP {page.status_code})")
        r = client.post(invite_path, data={"email": email, "password": password, "csrfmiddlewaretoken": csrf},
                        headers={"Referer": url + "/user/signup/"})
    if r.status_code in (301, 302, 303):  # signed up and logged in: sent on to the projects
        return
    if r.status_code == 403:
        raise StudioError(f"Label Studio at {url} refused the invite link (403): is the API key an owner's?")
    errors = [html.unescape(re.sub(r"<[^>]+>", "", m)).strip()
              for block in re.findall(r'<ul class="field_errors">(.*?)</ul>', r.text, re.S)
              for m in re.findall(r"<li>(.*?)</li>", block, re.S)]
    raise StudioError(f"Label Studio at {url} refused to sign up {email}: "
                      f"{'; '.join(e for e in errors if e) or f'HTTP {r.status_code}'}")
