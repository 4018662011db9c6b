"""An instance's full spec, its secrets decrypted: what the run engine calls (never what a response shows)."""

from __future__ import annotations

import uuid

from assay.storage import instances as instance_store
from assay.storage.db import Session
from assay.targets.stored import Spec, restore_spec


async def load_instance_spec(
    *, session: Session, environment_id: uuid.UUID, instance_id: uuid.UUID, secret_key: str
) -> Spec:
    """The instance's full spec with its secrets decrypted, for the run engine (never for a response)."""
    row = await instance_store.get_instance(session=session, environment_id=environment_id, instance_id=instance_id)
    return restore_spec(row.kind, row.config, instance_store.read_secrets(row=row, secret_key=secret_key))
