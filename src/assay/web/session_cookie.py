"""The signed session cookie of the web UI: who signed in, with which key or as which person, and the session's
CSRF token.

The cookie holds no secret: the key's id (never the key) or the person's id, the environment and a random CSRF token, signed with
a key derived from the server secret and timestamped, so a session ends after `ui_session_seconds` or at sign-out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "assay_session"
LOGIN_COOKIE = "assay_login"
"""Holds the CSRF token of the sign-in form, before there is a session."""


@dataclass(frozen=True, slots=True)
class WebSession:
    """A verified session: the API key it was opened with (or the person who signed in), the environment and
    its CSRF token."""

    key_id: uuid.UUID | None
    environment_id: uuid.UUID
    csrf_token: str
    user_id: uuid.UUID | None = None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return presented is not None and hmac.compare_digest(expected.encode(), presented.encode())


class SessionSigner:
    """Signs and verifies session and sign-in cookies with a key derived from the server secret."""

    def __init__(self, secret_key: str, *, max_age_seconds: int) -> None:
        derived = hmac.new(secret_key.encode(), b"assay web session", hashlib.sha256).hexdigest()
        self._sessions = URLSafeTimedSerializer(derived, salt="assay.web.session")
        self._logins = URLSafeTimedSerializer(derived, salt="assay.web.login")
        self.max_age_seconds = max_age_seconds

    def dump_session(self, session: WebSession) -> str:
        if session.user_id is not None:
            return self._sessions.dumps(["user", str(session.user_id), str(session.environment_id), session.csrf_token])
        return self._sessions.dumps([str(session.key_id), str(session.environment_id), session.csrf_token])

    def load_session(self, cookie: str | None) -> WebSession | None:
        """The session in a cookie, or None when it is missing, forged, malformed or expired."""
        if not cookie:
            return None
        try:
            fields = self._sessions.loads(cookie, max_age=self.max_age_seconds)
            if len(fields) == 4 and fields[0] == "user":
                _, user_id, environment_id, csrf = fields
                return WebSession(None, uuid.UUID(environment_id), str(csrf), user_id=uuid.UUID(user_id))
            key_id, environment_id, csrf = fields
            return WebSession(uuid.UUID(key_id), uuid.UUID(environment_id), str(csrf))
        except (BadSignature, ValueError, TypeError):
            return None

    def dump_login(self, csrf_token: str) -> str:
        return self._logins.dumps(csrf_token)

    def load_login(self, cookie: str | None) -> str | None:
        """The sign-in form's CSRF token, or None; the form is good for one hour."""
        if not cookie:
            return None
        try:
            value = self._logins.loads(cookie, max_age=3600)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
