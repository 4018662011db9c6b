"""Managing an environment's API keys: create (the key is shown once), revoke.

Only a key that holds every scope may manage keys, and a key never grants scopes it lacks itself, so no key
can escalate. Each function checks who asks, raises `assay.errors` types and commits its own work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from assay.domain.scopes import ALL_SCOPES, has_scope, normalize_scopes
from assay.errors import AuthError, ResourceNotFound, ValidationFailed
from assay.storage import environments as store
from assay.storage.db import Session
from assay.storage.tables import ApiKeyRow

MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who asks: a key (its id) or a person (`user_id`, with their role's scopes), the environment and scopes.

    A key created by a person records them as its owner.
    """

    key_id: uuid.UUID | None
    environment_id: uuid.UUID
    scopes: tuple[str, ...]
    user_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key's row and the key itself (to show once; only its hash is stored)."""

    row: ApiKeyRow
    key: str


def may_manage_keys(scopes: tuple[str, ...] | list[str]) -> bool:
    """Whether a key with `scopes` may create and revoke keys: it must hold every scope."""
    return set(ALL_SCOPES) <= set(scopes)


def require_key_manager(holder: KeyHolder) -> None:
    if not may_manage_keys(holder.scopes):
        raise AuthError(
            "Only a key holding every scope (or an admin) may manage API keys.",
            status_code=403,
            code="permission_denied",
        )


async def create_api_key(*, session: Session, holder: KeyHolder, name: str, scopes: list[str]) -> CreatedKey:
    """A new key in the holder's environment with `scopes` (each one the holder holds itself)."""
    require_key_manager(holder)
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"name: at most {MAX_NAME_LENGTH} characters", attr="name")
    try:
        wanted = normalize_scopes(scopes)
    except ValueError as exc:
        raise ValidationFailed(f"scopes: {exc}", attr="scopes") from None
    beyond = [s for s in wanted if not has_scope(holder.scopes, s)]
    if beyond:
        raise AuthError(
            f"A key cannot grant scopes it does not hold: {', '.join(beyond)}",
            status_code=403,
            code="permission_denied",
        )
    row, new = await store.create_api_key(
        session=session, environment_id=holder.environment_id, scopes=wanted, name=name, owner_user_id=holder.user_id
    )
    await session.commit()
    return CreatedKey(row=row, key=new.key)


async def revoke_api_key(*, session: Session, holder: KeyHolder, key_id: uuid.UUID) -> ApiKeyRow:
    """Revoke a key of the holder's environment (another environment's key is not found); requests with it get
    401 from then on, and its web sessions end."""
    require_key_manager(holder)
    row = await store.get_api_key(session=session, environment_id=holder.environment_id, key_id=key_id)
    if row is None:
        raise ResourceNotFound("Not found.")
    revoked = await store.revoke_api_key(session=session, id_or_prefix=str(row.id))
    await session.commit()
    return revoked
