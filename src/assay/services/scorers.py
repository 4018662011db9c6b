"""Scorers as PostHog's evaluations SDK manages them: create (version 1), change metadata, add versions.

Only reported scorers (the user's code gives the value) are served; composite scorers (a formula over other
scorers, computed by the server) are refused with a clear 400.
"""

from __future__ import annotations

import uuid
from typing import Any

from assay.domain.scorers import ScorerConfigError, validate_config
from assay.errors import ConflictError, ValidationFailed
from assay.services.dataset_versions import normalize_tags
from assay.storage import scorers as store
from assay.storage.db import Session
from assay.storage.experiment_tables import ScorerRow, ScorerVersionRow

COMPOSITE_REFUSED = "Composite scorers (calculation 'composite') are not supported: report each value instead."


def _config(kind: str, config: Any) -> dict[str, Any]:
    try:
        return validate_config(kind, config)
    except ScorerConfigError as exc:
        raise ValidationFailed(str(exc), attr=exc.field) from None


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 400:
        raise ValidationFailed("The name must be 1 to 400 characters.", attr="name", code="blank")
    return name


async def create_scorer(
    *, session: Session, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> tuple[ScorerRow, ScorerVersionRow]:
    """A scorer and its first version, and commit."""
    if fields.get("calculation", "reported") != "reported" or fields.get("composition") is not None:
        raise ValidationFailed(COMPOSITE_REFUSED, attr="calculation", code="unsupported")
    data = {
        "name": _name(fields.get("name")),
        "description": fields.get("description") or "",
        "kind": fields.get("kind"),
        "tags": normalize_tags(fields.get("tags") or []),
        "config": _config(str(fields.get("kind")), fields.get("config")),
    }
    row, version = await store.create_scorer(
        session=session, environment_id=environment_id, created_by_id=created_by_id, fields=data
    )
    await session.commit()
    await session.refresh(row)
    return row, version


async def update_scorer(
    *, session: Session, environment_id: uuid.UUID, scorer_id: uuid.UUID, fields: dict[str, Any]
) -> ScorerRow:
    """Change name, description, archived or tags (no new version), and commit."""
    row = await store.get_scorer(session=session, environment_id=environment_id, scorer_id=scorer_id)
    if "name" in fields:
        row.name = _name(fields["name"])
    if "description" in fields:
        row.description = fields["description"] or ""
    if "archived" in fields:
        row.archived = bool(fields["archived"])
    if "tags" in fields:
        row.tags = normalize_tags(fields["tags"] or [])
    await session.commit()
    await session.refresh(row)
    return row


async def add_version(
    *,
    session: Session,
    environment_id: uuid.UUID,
    scorer_id: uuid.UUID,
    fields: dict[str, Any],
    created_by_id: uuid.UUID | None,
) -> ScorerRow:
    """A new immutable version with `config` (after `base_version`, when given), and commit."""
    row = await store.get_scorer(session=session, environment_id=environment_id, scorer_id=scorer_id)
    if fields.get("composition") is not None:
        raise ValidationFailed(COMPOSITE_REFUSED, attr="composition", code="unsupported")
    base = fields.get("base_version")
    if base is not None and base != row.current_version:
        raise ConflictError(f"The scorer is at version {row.current_version}, not {base}.")
    config = _config(row.kind, fields.get("config"))
    if "name" in fields:
        row.name = _name(fields["name"])
    if "description" in fields:
        row.description = fields["description"] or ""
    await store.add_version(session=session, scorer=row, config=config, created_by_id=created_by_id)
    await session.commit()
    await session.refresh(row)
    return row
