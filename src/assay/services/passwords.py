"""Password hashing with argon2id (argon2-cffi), off the event loop, and the rules a new password must meet.

The memory and time cost come from the settings (`password_memory_kib`, `password_time_cost`; argon2-cffi's
defaults, 64 MiB and 3 passes, unless changed); a hash made with other parameters is redone at the next sign-in.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assay.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000


def check_new_password(password: str) -> None:
    """`ValidationFailed` unless the password is 10 to 1,000 characters long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password: at least {MIN_PASSWORD_LENGTH} characters", attr="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"password: at most {MAX_PASSWORD_LENGTH} characters", attr="password")


class Passwords:
    """Hashes and verifies passwords in a worker thread (argon2 takes tens of milliseconds of CPU by design)."""

    def __init__(self, *, memory_kib: int, time_cost: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._unused_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches the hash. Without a hash (no such account) it verifies against a throwaway
        one, so a miss takes as long as a wrong password, and answers False."""
        if password_hash is None and self._unused_hash is None:
            self._unused_hash = await self.hash("an unknown account still costs one verification")
        target = password_hash or self._unused_hash
        assert target is not None
        try:
            matched = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's."""
        return self._hasher.check_needs_rehash(password_hash)
