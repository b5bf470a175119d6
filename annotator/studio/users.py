"""Annotators: add a person to a Label Studio with a password they log in with (``annotator studio user add``).

Label Studio's API creates users without a password, so a new annotator is
signed up the way Label Studio documents for adding people: through the
organization's invite link (read with the admin's API key), which also makes
them a member of the organization and so of its projects. For the local server
(:func:`add_local_user`) the admin key is the one in its ``credentials.json``;
a password not given in a file is generated and kept in ``annotators.json``
(mode 0600) beside it. Passwords and tokens are never printed.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..io import write_json_atomic
from .client import Studio, connect
from .errors import StudioError
from .files import ANNOTATORS_FILE, read_json, utc_now
from .local import LocalStudio
from .rest import sign_up

__all__ = ["AddedUser", "add_user", "add_local_user", "read_password_file", "PASSWORD_CHARS"]

#: Label Studio's password length limits (``AUTH_PASSWORD_MIN_LENGTH``, ``AUTH_PASSWORD_MAX_LENGTH``).
PASSWORD_CHARS = (8, 128)


@dataclass(frozen=True)
class AddedUser:
    """A new annotator: their email, where they log in and where their password is (never the password)."""

    email: str
    url: str
    login_url: str
    password_file: Path


def _check_email(email: str) -> str:
    email = email.strip().lower()  # Label Studio lower-cases the email at login
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise StudioError(f"{email!r} is not an email address")
    return email


def _check_password(password: str, where: str) -> str:
    lo, hi = PASSWORD_CHARS
    if not lo <= len(password) <= hi:
        raise StudioError(f"the password in {where} has {len(password)} characters: Label Studio needs {lo} to {hi}")
    return password


def read_password_file(path: str | os.PathLike) -> str:
    """The password in ``path``: its first line, without the line end."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudioError(f"cannot read the password file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    lines = text.splitlines()
    return _check_password(lines[0] if lines else "", str(path))


def add_user(studio: Studio, email: str, password: str) -> str:
    """Sign ``email`` up at ``studio`` (an admin's connection) with ``password``; return their login URL.

    A user who already has an account is a :class:`StudioError` (nothing is changed).
    """
    email = _check_email(email)
    _check_password(password, "the password given")
    users = studio.call("list users", lambda: list(studio.sdk.users.list()))
    if any(str(getattr(u, "email", "") or "").lower() == email for u in users):
        raise StudioError(f"{email} already has an account at {studio.url}: nothing changed (they log in at "
                          f"{studio.url}/user/login/)")
    invite = studio.call("get the invite link", studio.sdk.organizations.invites.get_invite_link)
    if not getattr(invite, "invite_url", None):
        raise StudioError(f"Label Studio at {studio.url} gave no invite link: is the API key an owner's?")
    studio.call("sign up", sign_up, studio.url, invite.invite_url, email, password, timeout=studio.timeout,
                retry=False)
    users = studio.call("list users", lambda: list(studio.sdk.users.list()))
    if not any(str(getattr(u, "email", "") or "").lower() == email for u in users):
        raise StudioError(f"Label Studio at {studio.url} accepted the sign-up of {email} but lists no such user")
    return f"{studio.url}/user/login/"


def add_local_user(email: str, *, password_file: str | os.PathLike | None = None,
                   data_dir: str | os.PathLike | None = None, timeout: float = 60) -> AddedUser:
    """Add an annotator to the local Label Studio (``annotator studio up``), as the admin in its ``credentials.json``.

    The password is the first line of ``password_file``; without one a random
    password is generated and kept in ``annotators.json`` (mode 0600) in the
    server's data dir. Returns where they log in and where the password is.
    """
    local = LocalStudio(data_dir)
    status = local.status()
    if not status["running"]:
        raise StudioError(f"the local Label Studio ({local.data_dir}) is not running: start it with "
                          "'annotator studio up'")
    creds = local.credentials() or {}
    if not creds.get("api_key"):
        raise StudioError(f"{local.credentials_path} has no API key: restore it, or move {local.data_dir} away "
                          "to start afresh")
    password = read_password_file(password_file) if password_file is not None else secrets.token_urlsafe(15)
    login_url = add_user(connect(status["url"], creds["api_key"], timeout=timeout), email, password)
    email = _check_email(email)
    if password_file is not None:
        where = Path(password_file)
    else:
        where = local.data_dir / ANNOTATORS_FILE
        known = read_json(where) or {}
        known[email] = {"password": password, "url": status["url"], "added_at": utc_now()}
        write_json_atomic(where, known, private=True)
    return AddedUser(email, status["url"], login_url, where)
