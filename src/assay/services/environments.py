"""Environment use cases shared by the API, the CLI and the web UI: rotating the project token."""

from __future__ import annotations

import uuid

from assay.storage import environments as store
from assay.storage.db import Session
from assay.storage.tables import EnvironmentRow


async def rotate_project_token(*, session: Session, environment_id: uuid.UUID) -> EnvironmentRow:
    """Give the environment a fresh project token and commit: the old token is refused from then on."""
    row = await store.rotate_project_token(session=session, environment_id=environment_id)
    await session.commit()
    return row
