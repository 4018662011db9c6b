"""A run's results as CSV or JSON Lines, streamed in keyset batches (memory stays flat), with the table's filters.

Each record has the fields of `GET /v1/evaluations/{id}/results` with the same values, plus the case's
`input_message` and `tags`; in CSV, a text that a spreadsheet would run as a formula starts with `'`.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from assay.storage.result_queries import ExportedResult, ResultFilter, export_results
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.pages.runs import load_run
from assay.web.result_params import table_query

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

CSV_COLUMNS = (
    "id",
    "task_id",
    "evaluation_id",
    "test_case_id",
    "repetition",
    "status",
    "score",
    "original_score",
    "score_reason",
    "latency_ms",
    "tokens_used",
    "judge_tokens",
    "input_message",
    "tags",
    "agent_response",
    "tool_calls_made",
    "evaluator_results",
    "error",
    "overrides",
    "created_at",
)


def _timestamp(value: datetime | str | None) -> str | None:
    """Datetimes as the API writes them (ISO 8601, UTC as `Z`)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def export_record(item: ExportedResult) -> dict[str, Any]:
    """One result as the API answers it, with its case's input and tags."""
    row = item.row
    return {
        "agent_response": row.agent_response,
        "created_at": _timestamp(row.created_at),
        "evaluation_id": str(row.suite_id),
        "id": str(row.id),
        "latency_ms": round(row.latency_ms) if row.latency_ms is not None else None,
        "score": row.score,
        "score_reason": row.score_reason,
        "status": row.status,
        "test_case_id": str(row.test_case_id),
        "tokens_used": row.tokens_used,
        "tool_calls_made": row.tool_calls_made or [],
        "task_id": str(row.run_id),
        "repetition": row.repetition,
        "judge_tokens": row.judge_tokens,
        "evaluator_results": row.evaluator_results or [],
        "error": row.error,
        "original_score": row.original_score,
        "overrides": [
            {
                "score": o.get("score"),
                "previous_score": o.get("previous_score"),
                "reason": o.get("reason"),
                "by": o.get("by"),
                "at": _timestamp(o.get("at")),
            }
            for o in row.overrides or []
        ],
        "input_message": item.input_message,
        "tags": item.tags,
        "transcript": row.transcript,
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet: an agent's response of
`=HYPERLINK(...)` would run when the export is opened, so such cells get a leading `'` (OWASP's advice)."""


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


async def _lines(request: Request, run_id: uuid.UUID, flt: ResultFilter, *, as_csv: bool) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if as_csv:
        writer.writerow(CSV_COLUMNS)
    async for batch in export_results(sessionmaker=request.app.state.sessionmaker, run_id=run_id, flt=flt):
        for item in batch:
            record = export_record(item)
            if as_csv:
                record["tags"] = ";".join(item.tags)
                writer.writerow([_csv_cell(record[c]) for c in CSV_COLUMNS])
            else:
                buffer.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


async def _export(request: Request, run_id: uuid.UUID, session: Any, user: Any, *, as_csv: bool) -> Response:
    run = await load_run(session, user, run_id)
    flt = table_query(request.query_params).flt
    await session.close()  # batches read in short sessions of their own
    suffix = "csv" if as_csv else "jsonl"
    media = "text/csv; charset=utf-8" if as_csv else "application/x-ndjson"
    headers = {"content-disposition": f'attachment; filename="run-{run.id}.{suffix}"', "cache-control": "no-store"}
    return StreamingResponse(_lines(request, run.id, flt, as_csv=as_csv), media_type=media, headers=headers)


@router.get("/runs/{run_id}/export.csv")
async def export_csv(request: Request, run_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """The run's (filtered) results as CSV; lists and objects are JSON in their cells, tags joined by `;`."""
    return await _export(request, run_id, session, user, as_csv=True)


@router.get("/runs/{run_id}/export.jsonl")
async def export_jsonl(request: Request, run_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """The run's (filtered) results as JSON Lines, one API result record per line."""
    return await _export(request, run_id, session, user, as_csv=False)
