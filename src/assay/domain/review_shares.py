"""Splitting a run's review queue among reviewers: test cases are dealt round-robin, in test-case order, to the
environment's reviewers (and admins) in id order, so each case (all its repetitions) has one reviewer and the
shares differ in size by at most one case. A change in who reviews deals the cases again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReviewShare:
    """The cases whose 0-based rank in test-case order, modulo `count`, is `index`."""

    index: int
    count: int


def share_of(user_id: uuid.UUID | None, reviewers: list[uuid.UUID]) -> ReviewShare | None:
    """The share of `user_id` among `reviewers` (in the order given), or None when they are not one of them."""
    if user_id is None or user_id not in reviewers:
        return None
    return ReviewShare(index=reviewers.index(user_id), count=len(reviewers))
