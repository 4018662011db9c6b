"""A suite built from a dataset: one test case per item with an input (at the dataset's current revision, or a
given one), mapped as suite files map them. The suite pins that revision in its config (`dataset`), so each of
its runs records it."""

from __future__ import annotations

import uuid

from assay.domain.dataset_cases import case_from_item
from assay.errors import ValidationFailed
from assay.services.test_cases import validate_fields
from assay.storage import dataset_revisions as revisions
from assay.storage import datasets as dataset_store
from assay.storage import instances as instance_store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.tables import SuiteRow

MAX_SUITE_NAME_LENGTH = 200


async def suite_from_dataset(
    *,
    session: Session,
    environment_id: uuid.UUID,
    dataset_id: uuid.UUID,
    instance_id: uuid.UUID,
    name: str,
    revision: int | None = None,
) -> SuiteRow:
    """Create a suite against `instance_id` with a case per usable item of the dataset at `revision` (default:
    the current one), and commit."""
    dataset = await dataset_store.get_dataset(session=session, environment_id=environment_id, dataset_id=dataset_id)
    name = name.strip()
    if not name or len(name) > MAX_SUITE_NAME_LENGTH:
        raise ValidationFailed(f"the suite needs a name of 1 to {MAX_SUITE_NAME_LENGTH} characters", attr="name")
    if not await instance_store.instance_exists(
        session=session, environment_id=environment_id, instance_id=instance_id
    ):
        raise ValidationFailed("choose an instance of this environment", attr="instance_id")
    found = await revisions.resolve_revision(session=session, dataset=dataset, revision=revision, at=None)
    versions = (
        []
        if found is None
        else await revisions.active_versions_at(session=session, dataset_id=dataset.id, revision=found.number)
    )
    mapped = [
        case_from_item({"id": str(v.item_id), "input": v.input, "output": v.output, "metadata": v.metadata_})
        for v in versions
    ]
    cases = [c for c in mapped if c is not None]
    if found is None or not cases:
        raise ValidationFailed(f"dataset {dataset.name!r} has no items with an input", attr="dataset")
    pin = {"id": str(dataset.id), "name": dataset.name, "revision": found.number, "revision_id": str(found.id)}
    fields = [
        validate_fields({**case, "input_message": case["input"], "sort_order": index}).row_fields()
        for index, case in enumerate(cases)
    ]
    suite = await suite_store.create_suite(
        session=session,
        environment_id=environment_id,
        fields={
            "name": name,
            "description": f"Cases from dataset {dataset.name}",
            "instance_id": instance_id,
            "config": {"dataset": pin},
        },
    )
    await suite_store.add_test_cases(session=session, environment_id=environment_id, suite_id=suite.id, cases=fields)
    await session.commit()
    return suite
