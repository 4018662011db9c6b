"""Password hashing with argon2id (argon2-cffi's defaults), and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assay.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000

_hasher = PasswordHasher()
_UNUSED_HASH = _hasher.hash("an unknown account still costs one verification")
"""Verified against when no account has the email, so a miss takes as long as a wrong password."""


def check_new_password(password: str) -> None:
    """`ValidationFailed` unless the password is 10 to 1,000 characters long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password: at least {MIN_PASSWORD_LENGTH} characters", attr="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"password: at most {MAX_PASSWORD_LENGTH} characters", attr="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the hash (with no hash, a verification against a throwaway one: False)."""
    try:
        return _hasher.verify(password_hash or _UNUSED_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash it on the next sign-in)."""
    return _hasher.check_needs_rehash(password_hash)
