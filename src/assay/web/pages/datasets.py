"""The datasets pages: the list (search, sort, create, soft-delete, restore), one dataset's items (keyset-paginated,
add, edit) and "evaluate against this dataset", which builds a suite from its items.

Reads go through `storage/dataset_views.py`, writes through `services/datasets.py` and `services/dataset_suites.py`.
A write that fails validation shows the form again with the problem beside it (422).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from assay.errors import ResourceNotFound, ValidationFailed
from assay.services import dataset_suites
from assay.services import datasets as dataset_service
from assay.storage import dataset_views as views
from assay.storage import datasets as dataset_store
from assay.storage import instances as instance_store
from assay.storage.db import Session
from assay.storage.tables import DatasetItemRow, DatasetRow
from assay.web.auth import DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.json_fields import parse_json_field
from assay.web.templating import fmt_json, render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

DATASETS_PER_PAGE = 50
ITEMS_PER_PAGE = 50
MAX_REF_LENGTH = 255
NOTICES = {
    "created": "Dataset created.",
    "saved": "Dataset saved.",
    "deleted": "Dataset deleted. It is listed under “Deleted” and can be restored.",
    "restored": "Dataset restored.",
    "item-added": "Item added.",
    "item-saved": "Item saved.",
}
TextField = Annotated[str, Form()]


def _json_text(value: Any) -> str:
    return "" if value is None else fmt_json(value)


@dataclass(slots=True)
class DatasetForm:
    """A dataset form's text as typed."""

    name: str = ""
    description: str = ""
    metadata: str = ""

    @classmethod
    def of(cls, row: DatasetRow) -> DatasetForm:
        return cls(row.name, row.description or "", _json_text(row.metadata_))

    def fields(self) -> dict[str, Any]:
        """The fields to store; `ValidationFailed` for a blank name or bad JSON."""
        return {
            "name": dataset_service.check_name(self.name.strip()),
            "description": self.description or None,
            "metadata_": parse_json_field(self.metadata, "metadata"),
        }


@dataclass(slots=True)
class ItemForm:
    """An item form's text as typed."""

    input: str = ""
    output: str = ""
    metadata: str = ""
    ref_trace_id: str = ""

    @classmethod
    def of(cls, row: DatasetItemRow) -> ItemForm:
        return cls(_json_text(row.input), _json_text(row.output), _json_text(row.metadata_), row.ref_trace_id or "")

    def fields(self) -> dict[str, Any]:
        """The fields to store; `ValidationFailed` naming the first bad one."""
        ref = self.ref_trace_id.strip()
        if len(ref) > MAX_REF_LENGTH:
            raise ValidationFailed(f"ref_trace_id: at most {MAX_REF_LENGTH} characters", attr="ref_trace_id")
        return {
            "input": parse_json_field(self.input, "input"),
            "output": parse_json_field(self.output, "output"),
            "metadata_": parse_json_field(self.metadata, "metadata"),
            "ref_trace_id": ref or None,
        }


@dataclass(slots=True)
class Problems:
    """What went wrong in which form of the dataset page, and the text to show again."""

    dataset_form: DatasetForm | None = None
    dataset_error: str | None = None
    item_form: ItemForm = field(default_factory=ItemForm)
    item_error: str | None = None
    suite_error: str | None = None
    suite_values: dict[str, str] = field(default_factory=dict)


def _encode_cursor(row: DatasetItemRow) -> str:
    return base64.urlsafe_b64encode(f"{row.created_at.isoformat()}|{row.id}".encode()).decode()


def _decode_cursor(text: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, item_id = base64.urlsafe_b64decode(text.encode()).decode().split("|")
        return datetime.fromisoformat(stamp), uuid.UUID(item_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("cursor: not a valid page cursor", attr="cursor") from None


def _page_number(text: str | None) -> int:
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise ValidationFailed("page: a whole number from 1", attr="page")
    return int(text)


async def _list_page(
    request: Request,
    session: Session,
    user: WebUser,
    *,
    form: DatasetForm | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    params = request.query_params
    q = (params.get("q") or "").strip()
    sort = params.get("sort") or "-created"
    if sort not in views.DATASET_PAGE_SORTS:
        raise ValidationFailed(f"sort: one of {', '.join(sorted(views.DATASET_PAGE_SORTS))}", attr="sort")
    deleted = params.get("deleted") == "1"
    page = _page_number(params.get("page"))
    count, rows = await views.dataset_page(
        session=session,
        environment_id=user.environment_id,
        name_search=q or None,
        sort=sort,
        deleted=deleted,
        limit=DATASETS_PER_PAGE,
        offset=(page - 1) * DATASETS_PER_PAGE,
    )
    return render(
        request,
        "datasets.html",
        {
            "rows": rows,
            "count": count,
            "q": q,
            "sort": sort,
            "deleted": deleted,
            "page": page,
            "has_next": page * DATASETS_PER_PAGE < count,
            "can_write": user.can_write("dataset"),
            "form": form or DatasetForm(),
            "error": error,
            "notice": NOTICES.get(params.get("notice", "")),
        },
        status_code=status_code,
    )


@router.get("/datasets")
async def datasets_page(request: Request, session: DbSession, user: User) -> Response:
    """The environment's datasets, searchable by name and sorted by name, creation or update."""
    user.require_read("dataset")
    return await _list_page(request, session, user)


@router.post("/datasets")
async def create_dataset(
    request: Request,
    session: DbSession,
    user: User,
    name: TextField = "",
    description: TextField = "",
    metadata: TextField = "",
) -> Response:
    """Create a dataset from the form and open it."""
    user.require_write("dataset")
    form = DatasetForm(name, description, metadata)
    try:
        fields = form.fields()
    except ValidationFailed as exc:
        return await _list_page(request, session, user, form=form, error=exc.message, status_code=422)
    row = await dataset_service.create_dataset(
        session=session, environment_id=user.environment_id, created_by_id=user.key_id, fields=fields
    )
    return RedirectResponse(f"/datasets/{row.id}?notice=created", status_code=303)


async def _dataset_page(
    request: Request,
    session: Session,
    user: WebUser,
    dataset_id: uuid.UUID,
    *,
    problems: Problems | None = None,
    status_code: int = 200,
) -> Response:
    dataset = await dataset_store.get_dataset(
        session=session, environment_id=user.environment_id, dataset_id=dataset_id
    )
    cursor_text = request.query_params.get("cursor")
    after = _decode_cursor(cursor_text) if cursor_text else None
    items, more = await views.item_page(session=session, dataset_id=dataset.id, limit=ITEMS_PER_PAGE, after=after)
    can_build = user.can_write("evaluation")
    instances = (
        await instance_store.list_instances(session=session, environment_id=user.environment_id) if can_build else []
    )
    problems = problems or Problems()
    return render(
        request,
        "dataset.html",
        {
            "dataset": dataset,
            "items": items,
            "next_cursor": _encode_cursor(items[-1]) if more and items else None,
            "paged": after is not None,
            "can_write": user.can_write("dataset"),
            "can_build": can_build,
            "instances": instances,
            "problems": problems,
            "dataset_form": problems.dataset_form or DatasetForm.of(dataset),
            "suite_values": {"name": f"{dataset.name} evaluation", **problems.suite_values},
            "notice": NOTICES.get(request.query_params.get("notice", "")),
        },
        status_code=status_code,
    )


@router.get("/datasets/{dataset_id}")
async def dataset_page(dataset_id: uuid.UUID, request: Request, session: DbSession, user: User) -> Response:
    """One dataset: its fields, its items (oldest first, keyset-paginated) and the forms to change them."""
    user.require_read("dataset")
    return await _dataset_page(request, session, user, dataset_id)


@router.post("/datasets/{dataset_id}")
async def edit_dataset(
    dataset_id: uuid.UUID,
    request: Request,
    session: DbSession,
    user: User,
    name: TextField = "",
    description: TextField = "",
    metadata: TextField = "",
) -> Response:
    """Save the dataset's name, description and metadata."""
    user.require_write("dataset")
    form = DatasetForm(name, description, metadata)
    try:
        fields = form.fields()
    except ValidationFailed as exc:
        problems = Problems(dataset_form=form, dataset_error=exc.message)
        return await _dataset_page(request, session, user, dataset_id, problems=problems, status_code=422)
    await dataset_service.update_dataset(
        session=session, environment_id=user.environment_id, dataset_id=dataset_id, fields=fields
    )
    return RedirectResponse(f"/datasets/{dataset_id}?notice=saved", status_code=303)


@router.post("/datasets/{dataset_id}/delete")
async def delete_dataset(dataset_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Soft-delete the dataset (it can be restored; nothing is removed)."""
    user.require_write("dataset")
    await dataset_service.update_dataset(
        session=session, environment_id=user.environment_id, dataset_id=dataset_id, fields={"deleted": True}
    )
    return RedirectResponse("/datasets?notice=deleted", status_code=303)


@router.post("/datasets/{dataset_id}/undelete")
async def undelete_dataset(dataset_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Restore a soft-deleted dataset."""
    user.require_write("dataset")
    await dataset_service.update_dataset(
        session=session, environment_id=user.environment_id, dataset_id=dataset_id, fields={"deleted": False}
    )
    return RedirectResponse(f"/datasets/{dataset_id}?notice=restored", status_code=303)


@router.post("/datasets/{dataset_id}/items")
async def add_item(
    dataset_id: uuid.UUID,
    request: Request,
    session: DbSession,
    user: User,
    input: TextField = "",
    output: TextField = "",
    metadata: TextField = "",
    ref_trace_id: TextField = "",
) -> Response:
    """Add an item from the form's JSON fields."""
    user.require_write("dataset")
    await dataset_store.get_dataset(session=session, environment_id=user.environment_id, dataset_id=dataset_id)
    form = ItemForm(input, output, metadata, ref_trace_id)
    try:
        fields = form.fields()
    except ValidationFailed as exc:
        problems = Problems(item_form=form, item_error=exc.message)
        return await _dataset_page(request, session, user, dataset_id, problems=problems, status_code=422)
    await dataset_service.create_dataset_item(
        session=session,
        environment_id=user.environment_id,
        created_by_id=user.key_id,
        fields={**fields, "dataset": dataset_id},
    )
    return RedirectResponse(f"/datasets/{dataset_id}?notice=item-added", status_code=303)


async def _item_of(session: Session, user: WebUser, dataset_id: uuid.UUID, item_id: uuid.UUID) -> DatasetItemRow:
    dataset = await dataset_store.get_dataset(
        session=session, environment_id=user.environment_id, dataset_id=dataset_id
    )
    item = await dataset_store.get_dataset_item(session=session, environment_id=user.environment_id, item_id=item_id)
    if item.dataset_id != dataset.id:
        raise ResourceNotFound("Not found.")
    return item


async def _item_page(
    request: Request,
    session: Session,
    user: WebUser,
    item: DatasetItemRow,
    form: ItemForm,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    dataset = await dataset_store.get_dataset(
        session=session, environment_id=user.environment_id, dataset_id=item.dataset_id
    )
    return render(
        request,
        "dataset_item.html",
        {
            "dataset": dataset,
            "item": item,
            "form": form,
            "error": error,
            "can_write": user.can_write("dataset"),
            "notice": NOTICES.get(request.query_params.get("notice", "")),
        },
        status_code=status_code,
    )


@router.get("/datasets/{dataset_id}/items/{item_id}")
async def item_page(
    dataset_id: uuid.UUID, item_id: uuid.UUID, request: Request, session: DbSession, user: User
) -> Response:
    """One item with its JSON fields and, for writers, the form to edit them."""
    user.require_read("dataset")
    item = await _item_of(session, user, dataset_id, item_id)
    return await _item_page(request, session, user, item, ItemForm.of(item))


@router.post("/datasets/{dataset_id}/items/{item_id}")
async def edit_item(
    dataset_id: uuid.UUID,
    item_id: uuid.UUID,
    request: Request,
    session: DbSession,
    user: User,
    input: TextField = "",
    output: TextField = "",
    metadata: TextField = "",
    ref_trace_id: TextField = "",
) -> Response:
    """Save an item's JSON fields."""
    user.require_write("dataset")
    item = await _item_of(session, user, dataset_id, item_id)
    form = ItemForm(input, output, metadata, ref_trace_id)
    try:
        fields = form.fields()
    except ValidationFailed as exc:
        return await _item_page(request, session, user, item, form, error=exc.message, status_code=422)
    await dataset_service.update_dataset_item(
        session=session, environment_id=user.environment_id, item_id=item.id, fields=fields
    )
    return RedirectResponse(f"/datasets/{dataset_id}/items/{item_id}?notice=item-saved", status_code=303)


@router.post("/datasets/{dataset_id}/suite")
async def build_suite(
    dataset_id: uuid.UUID,
    request: Request,
    session: DbSession,
    user: User,
    name: TextField = "",
    instance_id: TextField = "",
) -> Response:
    """Build a suite with a case per item of the dataset against the chosen instance, and open it."""
    user.require_read("dataset")
    user.require_write("evaluation")
    try:
        try:
            instance = uuid.UUID(instance_id)
        except ValueError:
            raise ValidationFailed("choose an instance of this environment", attr="instance_id") from None
        suite = await dataset_suites.suite_from_dataset(
            session=session, environment_id=user.environment_id, dataset_id=dataset_id, instance_id=instance, name=name
        )
    except ValidationFailed as exc:
        problems = Problems(suite_error=exc.message, suite_values={"name": name, "instance_id": instance_id})
        return await _dataset_page(request, session, user, dataset_id, problems=problems, status_code=422)
    return RedirectResponse(f"/suites/{suite.id}", status_code=303)
