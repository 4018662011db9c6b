"""People: creating accounts, signing in (slowed after failures), and an admin's management of roles.

Each function takes plain arguments and a session, raises `assay.errors` types and commits its own work.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from assay.domain.roles import Role, parse_role
from assay.domain.sign_in_throttle import (
    ACCOUNT_POLICY,
    ADDRESS_POLICY,
    FORGET_AFTER,
    ThrottlePolicy,
    address_subject,
    email_subject,
)
from assay.domain.storable import storable_problem
from assay.errors import AuthError, ConflictError, ResourceNotFound, ValidationFailed
from assay.services.passwords import Passwords, check_new_password
from assay.storage import environments as environment_store
from assay.storage import sign_in_failures as failure_store
from assay.storage import users as store
from assay.storage.db import Session
from assay.storage.tables import EnvironmentRow, UserRow
from assay.storage.types import utcnow

logger = logging.getLogger("assay.sign_in")

MAX_EMAIL_LENGTH = 320
MAX_NAME_LENGTH = 200


class SignInLocked(AuthError):
    """Too many failed sign-ins for the account or the address: refused, without checking the password, until
    `retry_after` seconds have passed."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins. Try again in {retry_after} seconds.",
            status_code=429,
            code="too_many_attempts",
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Actor:
    """Who manages people in one environment: a person with their role there, or (`user_id` None) a key, which
    acts as an admin when it holds every scope."""

    user_id: uuid.UUID | None
    environment_id: uuid.UUID
    role: str


def normalize_email(email: str) -> str:
    """The email as stored (trimmed, lower-case); `ValidationFailed` when it is not one."""
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value) or "@" in domain:
        raise ValidationFailed("email: not an email address", attr="email")
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationFailed(f"email: at most {MAX_EMAIL_LENGTH} characters", attr="email")
    return value


def check_name(name: str) -> str:
    value = name.strip()
    if not value:
        raise ValidationFailed("name: required", attr="name")
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"name: at most {MAX_NAME_LENGTH} characters", attr="name")
    problem = storable_problem(value)
    if problem is not None:
        raise ValidationFailed(f"name: {problem[1]}", attr="name")
    return value


def role_of(text: str) -> Role:
    try:
        return parse_role(text)
    except ValueError as exc:
        raise ValidationFailed(f"role: {exc}", attr="role") from None


def display_name(user: UserRow) -> str:
    """How overrides and runs record a person: `Name <email>`."""
    return f"{user.name} <{user.email}>"


async def create_user(
    *, session: Session, passwords: Passwords, email: str, name: str, password: str, environment: str, role: str
) -> tuple[UserRow, EnvironmentRow]:
    """A new account with `role` in the environment named (or with the id) `environment` (`assay user create`).

    Raises `ValidationFailed` for a bad email, name, password or role, `ResourceNotFound` for an unknown
    environment and `ConflictError` when the email has an account already.
    """
    address, person, wanted = normalize_email(email), check_name(name), role_of(role)
    check_new_password(password)
    env = await environment_store.find_environment(session=session, id_or_name=environment)
    password_hash = await passwords.hash(password)
    user = await store.create_user(session=session, email=address, name=person, password_hash=password_hash)
    await store.set_role(session=session, user_id=user.id, environment_id=env.id, role=wanted)
    await session.commit()
    return user, env


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


async def _count_failure(session: Session, subject: str, policy: ThrottlePolicy, now: datetime) -> int:
    failures = await failure_store.record_failure(
        session=session, subject=subject, now=now, forget_before=now - FORGET_AFTER
    )
    lock = policy.lock_for(failures)
    if lock > timedelta(0):
        await failure_store.lock(session=session, subject=subject, until=now + lock)
    return failures


async def authenticate(*, session: Session, passwords: Passwords, email: str, password: str, address: str) -> UserRow:
    """The account whose email and password these are.

    Failures are counted per account and per client `address` in the database (so every process sees them)
    and logged as warnings with the email and address (never the password); past a threshold the account or
    address is locked for a doubling time (`domain/sign_in_throttle.py`) and `SignInLocked` (429) is raised
    without looking at the password. Otherwise a wrong email or password raises `AuthError` (401).
    """
    now = utcnow()
    address_key = address_subject(address)
    try:
        login = normalize_email(email)
    except ValidationFailed:
        login = email.strip().lower()[:MAX_EMAIL_LENGTH]
    account_key = email_subject(login)
    locked = await failure_store.locked_until(session=session, subjects=[account_key, address_key], now=now)
    if locked is not None:
        logger.warning("sign-in refused while locked: email=%s ip=%s", login, address)
        raise SignInLocked(_seconds_until(locked, now))
    user = await store.user_by_email(session=session, email=login)
    if not await passwords.verify(user.password_hash if user else None, password):
        account_failures = await _count_failure(session, account_key, ACCOUNT_POLICY, now)
        await _count_failure(session, address_key, ADDRESS_POLICY, now)
        await session.commit()
        logger.warning(
            "sign-in failed: email=%s ip=%s failures=%d%s",
            login,
            address,
            account_failures,
            "" if user else " (no such account)",
        )
        raise AuthError("That email and password do not match an account.", status_code=401, code="bad_credentials")
    assert user is not None
    await failure_store.clear(session=session, subject=account_key)
    if passwords.needs_rehash(user.password_hash):
        await store.set_password_hash(session=session, user_id=user.id, password_hash=await passwords.hash(password))
    await session.commit()
    return user


def require_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise AuthError("Only an admin of this environment manages people.", status_code=403, code="permission_denied")


async def _guard_last_admin(session: Session, actor: Actor, user_id: uuid.UUID) -> None:
    current = await store.get_role(session=session, user_id=user_id, environment_id=actor.environment_id)
    if current is None:
        raise ResourceNotFound("No such person in this environment.")
    if current == "admin" and await store.count_admins(session=session, environment_id=actor.environment_id) <= 1:
        raise ConflictError("This is the environment's last admin: make someone else admin first.")


async def change_role(*, session: Session, actor: Actor, user_id: uuid.UUID, role: str) -> None:
    """Give a person of the actor's environment another role (never leaving the environment without an admin)."""
    require_admin(actor)
    wanted = role_of(role)
    if wanted != "admin":
        await _guard_last_admin(session, actor, user_id)
    elif await store.get_role(session=session, user_id=user_id, environment_id=actor.environment_id) is None:
        raise ResourceNotFound("No such person in this environment.")
    await store.set_role(session=session, user_id=user_id, environment_id=actor.environment_id, role=wanted)
    await session.commit()


async def remove_person(*, session: Session, actor: Actor, user_id: uuid.UUID) -> int:
    """Take a person out of the actor's environment and revoke the API keys they own there (how many).

    Their sessions in that environment end with the role; the account itself stays (other environments).
    """
    require_admin(actor)
    await _guard_last_admin(session, actor, user_id)
    await store.remove_role(session=session, user_id=user_id, environment_id=actor.environment_id)
    revoked = await store.revoke_owned_keys(session=session, user_id=user_id, environment_id=actor.environment_id)
    await session.commit()
    return revoked
