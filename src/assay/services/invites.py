"""Invites: an admin invites an email with a role; the link (single use, expiring) lets that person set a name
and password (or, having an account already, confirm theirs) and join the environment.

Only the token's SHA-256 is stored; the link is shown once, to the admin who made it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from assay.errors import ConflictError, ResourceNotFound
from assay.services.passwords import Passwords, check_new_password
from assay.services.users import Actor, authenticate, check_name, normalize_email, require_admin, role_of
from assay.storage import environments as environment_store
from assay.storage import invites as store
from assay.storage import users as user_store
from assay.storage.db import Session
from assay.storage.tables import UserRow
from assay.storage.types import utcnow
from assay.storage.user_tables import InviteRow

INVITE_LIFETIME = timedelta(days=7)


class InviteGone(ConflictError):
    """The invite was used already or has expired (the pages answer 410)."""


@dataclass(frozen=True, slots=True)
class CreatedInvite:
    row: InviteRow
    token: str


@dataclass(frozen=True, slots=True)
class InviteView:
    """What the invite page shows: who is invited, where, as what, and whether they have an account."""

    invite: InviteRow
    environment_name: str
    account_exists: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    *, session: Session, actor: Actor, email: str, role: str, lifetime: timedelta = INVITE_LIFETIME
) -> CreatedInvite:
    """An invite to the actor's environment (admins only); the token goes into the link `/invite/{token}`."""
    require_admin(actor)
    address, wanted = normalize_email(email), role_of(role)
    existing = await user_store.user_by_email(session=session, email=address)
    if existing is not None and await user_store.get_role(
        session=session, user_id=existing.id, environment_id=actor.environment_id
    ):
        raise ConflictError(f"{address} is in this environment already: change their role instead.")
    token = secrets.token_urlsafe(32)
    row = await store.create_invite(
        session=session,
        environment_id=actor.environment_id,
        email=address,
        role=wanted,
        token_hash=token_hash(token),
        expires_at=utcnow() + lifetime,
        created_by_user_id=actor.user_id,
    )
    await session.commit()
    return CreatedInvite(row=row, token=token)


def _check_usable(invite: InviteRow, now: datetime) -> None:
    if invite.used_at is not None:
        raise InviteGone("This invite has been used already. Ask an admin for a new one.")
    if invite.expires_at <= now:
        raise InviteGone("This invite has expired. Ask an admin for a new one.")


async def view_invite(*, session: Session, token: str) -> InviteView:
    """The invite behind a token: `ResourceNotFound` when there is none, `InviteGone` when used or expired."""
    invite = await store.invite_by_token_hash(session=session, token_hash=token_hash(token))
    if invite is None:
        raise ResourceNotFound("This invite link is not valid.")
    _check_usable(invite, utcnow())
    environment = await environment_store.find_environment(session=session, id_or_name=str(invite.environment_id))
    account = await user_store.user_by_email(session=session, email=invite.email)
    return InviteView(invite=invite, environment_name=environment.name, account_exists=account is not None)


async def accept_invite(
    *, session: Session, passwords: Passwords, token: str, name: str, password: str, address: str
) -> tuple[UserRow, uuid.UUID]:
    """Join the invite's environment with its role: a new account with `name` and `password`, or, when the email
    has an account, that account once `password` is its own (checked as a sign-in from `address` is: failures
    count towards the same lock). Returns the person and the environment's id.
    """
    view = await view_invite(session=session, token=token)
    invite = view.invite
    user = await user_store.user_by_email(session=session, email=invite.email)
    if user is None:
        person = check_name(name)
        check_new_password(password)
        password_hash = await passwords.hash(password)
    else:
        await authenticate(session=session, passwords=passwords, email=invite.email, password=password, address=address)
    if not await store.claim_invite(session=session, invite_id=invite.id, now=utcnow()):
        await session.rollback()
        raise InviteGone("This invite has been used already. Ask an admin for a new one.")
    if user is None:
        user = await user_store.create_user(
            session=session, email=invite.email, name=person, password_hash=password_hash
        )
    await user_store.set_role(session=session, user_id=user.id, environment_id=invite.environment_id, role=invite.role)
    await session.commit()
    return user, invite.environment_id


async def withdraw_invite(*, session: Session, actor: Actor, invite_id: uuid.UUID) -> None:
    """Make an open invite of the actor's environment unusable."""
    require_admin(actor)
    if not await store.withdraw_invite(session=session, environment_id=actor.environment_id, invite_id=invite_id):
        raise ResourceNotFound("No such open invite.")
    await session.commit()
