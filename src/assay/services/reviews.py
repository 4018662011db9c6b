"""Reviewing results by hand: undoing the last override.

An undo never edits history: it appends an override entry that sets the score and the reason back to what they
were before the undone entry (`undoes` names that entry's position), so every change keeps who, when, the old and
new score and the reason. Undos stack: a second undo reverts the override before, until none is left.
"""

from __future__ import annotations

import uuid
from typing import Any

from assay.errors import ConflictError
from assay.services.runs import apply_override_entry
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.run_tables import ResultRow
from assay.storage.types import utcnow


def last_standing_override(entries: list[dict[str, Any]]) -> int | None:
    """Position of the latest override entry not undone yet (undo entries themselves are never undone)."""
    undone = {e["undoes"] for e in entries if isinstance(e.get("undoes"), int)}
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if "undoes" not in entry and index not in undone:
            return index
    return None


async def undo_last_override(
    *, session: Session, environment_id: uuid.UUID, suite_id: uuid.UUID, result_id: uuid.UUID, by: str
) -> ResultRow:
    """Revert the result's latest standing override, made by `by`, to the score it replaced.

    Raises `ConflictError` when nothing is left to undo, when that override was someone else's, or when the
    score it replaced was empty (an errored result has no score to go back to).
    """
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    row = await run_store.get_result(session=session, suite_id=suite.id, result_id=result_id)
    entries: list[dict[str, Any]] = list(row.overrides or [])
    index = last_standing_override(entries)
    if index is None:
        raise ConflictError("This result has no override to undo.")
    undone = entries[index]
    if undone.get("by") != by:
        raise ConflictError("The last override of this result was made by another key: it is theirs to undo.")
    restored = undone.get("previous_score")
    if not isinstance(restored, int | float):
        raise ConflictError("The override replaced an empty score: there is no score to go back to.")
    earlier = last_standing_override(entries[:index])
    entry = {
        "score": float(restored),
        "previous_score": row.score,
        "reason": f"Undo of the override of {undone.get('at')}",
        "by": by,
        "at": utcnow().isoformat(),
        "undoes": index,
    }
    if "previous_reason" in undone:  # the reason the undone override replaced, the judge's for the first one
        reason = undone["previous_reason"] or ""
    else:  # an entry written before reasons were kept: the reason of the override still standing, if any
        reason = entries[earlier].get("reason") if earlier is not None else None
    return await apply_override_entry(session=session, row=row, entry=entry, reason=reason)
