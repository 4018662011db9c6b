"""The People section of `/admin`: who manages people, and what the section shows (people with their roles,
open invites, a new invite's link)."""

from __future__ import annotations

from typing import Any

from assay.domain.roles import ROLES
from assay.services.api_keys import may_manage_keys
from assay.services.users import Actor
from assay.storage import invites as invite_store
from assay.storage import users as user_store
from assay.storage.db import Session
from assay.storage.types import utcnow
from assay.web.auth import WebUser


def actor_of(user: WebUser) -> Actor:
    """A person acts with their role; a key holding every scope acts as an admin, any other key as a viewer."""
    if user.role is not None:
        return Actor(user_id=user.user_id, environment_id=user.environment_id, role=user.role)
    role = "admin" if may_manage_keys(user.scopes) else "viewer"
    return Actor(user_id=None, environment_id=user.environment_id, role=role)


async def people_context(session: Session, user: WebUser) -> dict[str, Any]:
    """The section's people, open invites (for admins) and whether this user may manage them."""
    manages = actor_of(user).role == "admin"
    people = await user_store.list_people(session=session, environment_id=user.environment_id)
    invites = await invite_store.open_invites(session=session, environment_id=user.environment_id, now=utcnow())
    return {
        "people": people,
        "invites": invites if manages else [],
        "manages_people": manages,
        "roles": ROLES,
        "people_error": None,
        "new_invite": None,
        "new_invite_url": None,
        "invite_error": None,
        "invite_form": {"email": "", "role": "reviewer"},
    }
