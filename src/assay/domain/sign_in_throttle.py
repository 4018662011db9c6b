"""How failed sign-ins slow down the next attempt: per account and per client address, a lock that doubles
with every failure past a threshold, up to a cap; failures older than `FORGET_AFTER` are forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Failures allowed before a lock, the first lock's length and the longest lock."""

    threshold: int
    first_lock: timedelta
    longest_lock: timedelta

    def lock_for(self, failures: int) -> timedelta:
        """How long a subject with `failures` recent failures is locked (zero below the threshold)."""
        if failures < self.threshold:
            return timedelta(0)
        doublings = min(failures - self.threshold, 20)
        lock: timedelta = self.first_lock * (2**doublings)
        return min(lock, self.longest_lock)


ACCOUNT_POLICY = ThrottlePolicy(threshold=5, first_lock=timedelta(seconds=30), longest_lock=timedelta(minutes=15))
"""An account: five wrong passwords, then 30 s, 60 s, 2 min, … up to 15 min between tries."""
ADDRESS_POLICY = ThrottlePolicy(threshold=20, first_lock=timedelta(seconds=30), longest_lock=timedelta(minutes=15))
"""A client address, across accounts: twenty failures, then the same doubling lock."""


def email_subject(email: str) -> str:
    return f"email:{email}"


def address_subject(address: str) -> str:
    return f"ip:{address}"
