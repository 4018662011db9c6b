"""Reading one run's results for the run page: filters, sorts, keyset pages, chart measures, exports, one result.

A result's input and tags come from its test case by a LEFT JOIN on `test_cases` (the primary key), not from the
run's snapshot: the snapshot is one JSON document per run, which SQL cannot filter, sort or search without
decoding it whole, while the join costs one index lookup per row and keeps the results table free of copies.
The price: a case edited after the run shows its current input and tags in the table, and a deleted case shows
none. The detail view reads the case as it was run from the snapshot (`snapshot_case`), extracted by the database.

Pages are keyset pages: the order is (sort value, nulls last; then id), and a cursor holds the last (or first)
row's sort value and id, so a page costs the same at row 10 as at row 10,000 and never counts what it skips.
Text sorts order by the first `TEXT_SORT_CHARS` characters, so a cursor stays short.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    TextClause,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ValidationFailed
from assay.storage.db import SessionFactory
from assay.storage.run_tables import ResultRow
from assay.storage.tables import TestCaseRow

PAGE_SIZE = 50
Condition: TypeAlias = ColumnElement[bool] | TextClause
EXPORT_BATCH = 500
TEXT_SORT_CHARS = 120
PREVIEW_CHARS = 240

SortKey = Literal[
    "created",
    "input",
    "tags",
    "repetition",
    "status",
    "score",
    "latency",
    "tokens",
    "judge_tokens",
    "response",
    "reason",
]
SORT_KEYS: tuple[str, ...] = SortKey.__args__  # type: ignore[attr-defined]
ResultStatus = Literal["passed", "failed", "error", "unscored"]
VerdictStatus = Literal["passed", "failed", "not_applicable", "error"]


@dataclass(frozen=True, slots=True)
class ResultFilter:
    """What the results table shows: every field None means every result of the run."""

    status: ResultStatus | None = None
    tag: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    evaluator: str | None = None
    verdict: VerdictStatus | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class ResultSort:
    """A column and a direction; `parse("-score")` is score descending."""

    key: SortKey = "created"
    descending: bool = False

    @classmethod
    def parse(cls, value: str | None) -> ResultSort:
        if not value:
            return cls()
        descending = value.startswith("-")
        key = value.removeprefix("-")
        if key not in SORT_KEYS:
            raise ValidationFailed(f"cannot sort by {key!r}; one of {', '.join(SORT_KEYS)}", attr="sort")
        return cls(key, descending)  # type: ignore[arg-type]

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.key


@dataclass(frozen=True, slots=True)
class ResultListItem:
    """One row of the results table: measures and the first characters of each text."""

    id: uuid.UUID
    test_case_id: uuid.UUID
    repetition: int
    status: str
    score: float | None
    overridden: bool
    latency_ms: float | None
    tokens_used: int | None
    judge_tokens: int
    input_preview: str | None
    tags: list[str]
    response_preview: str | None
    reason_preview: str | None
    error_preview: str | None


@dataclass(frozen=True, slots=True)
class ResultPage:
    """One page of the table, with cursors to the pages on either side (None at an end)."""

    items: list[ResultListItem]
    matching: int
    next_cursor: str | None
    previous_cursor: str | None


@dataclass(frozen=True, slots=True)
class RunDistributions:
    """What the run page's charts and the mean score's interval need, aggregated by the database.

    Scores are those of scored results (passed or failed with a score), as the summary's `mean_score` counts them.
    """

    scored: int
    score_sum: float
    score_square_sum: float
    score_buckets: list[int]
    latency_max: float | None
    latency_edges: list[float]
    latency_buckets: list[int]
    tag_rates: list[tuple[str, int, int]]


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _sort_expression(key: SortKey) -> ColumnElement[Any]:
    columns: dict[str, Any] = {  # ORM attributes and SQL expressions alike
        "created": ResultRow.id,
        "input": func.substr(TestCaseRow.input_message, 1, TEXT_SORT_CHARS),
        "tags": func.substr(cast(TestCaseRow.tags, String), 1, TEXT_SORT_CHARS),
        "repetition": ResultRow.repetition,
        "status": ResultRow.status,
        "score": ResultRow.score,
        "latency": ResultRow.latency_ms,
        "tokens": ResultRow.tokens_used,
        "judge_tokens": ResultRow.judge_tokens,
        "response": func.substr(ResultRow.agent_response, 1, TEXT_SORT_CHARS),
        "reason": func.substr(ResultRow.score_reason, 1, TEXT_SORT_CHARS),
    }
    expression: ColumnElement[Any] = columns[key]
    return expression


def _like_pattern(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_condition(search: str) -> ColumnElement[bool]:
    """The text in the case's input, the response or the reason, ignoring case.

    ILIKE on PostgreSQL; SQLAlchemy renders it as `lower(…) LIKE lower(…)` on SQLite. Counting the matches of
    one word over 10,000 long results on PostgreSQL 15 (C.UTF-8, quiet machine): ILIKE 80–108 ms,
    `lower(…) LIKE` 107–130 ms, one `lower()` of the three columns joined 103–141 ms."""
    pattern = _like_pattern(search.lower())
    columns = (TestCaseRow.input_message, ResultRow.agent_response, ResultRow.score_reason)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def _tag_condition(dialect: str, tag: str) -> Condition:
    if dialect == "postgresql":
        return type_coerce(TestCaseRow.tags, JSONB).contains([tag])
    return text("EXISTS (SELECT 1 FROM json_each(test_cases.tags) WHERE json_each.value = :tag)").bindparams(tag=tag)


def _verdict_condition(dialect: str, evaluator: str, verdict: str | None) -> Condition:
    if dialect == "postgresql":
        pattern: dict[str, str] = {"evaluator": evaluator}
        if verdict is not None:
            pattern["status"] = verdict
        return type_coerce(ResultRow.evaluator_results, JSONB).contains([pattern])
    clause = "json_extract(e.value, '$.evaluator') = :evaluator"
    params: dict[str, str] = {"evaluator": evaluator}
    if verdict is not None:
        clause += " AND json_extract(e.value, '$.status') = :verdict"
        params["verdict"] = verdict
    return text(f"EXISTS (SELECT 1 FROM json_each(results.evaluator_results) AS e WHERE {clause})").bindparams(**params)


def _conditions(dialect: str, run_id: uuid.UUID, flt: ResultFilter) -> list[Condition]:
    conditions: list[Condition] = [ResultRow.run_id == run_id]
    if flt.status is not None:
        conditions.append(ResultRow.status == flt.status)
    if flt.score_min is not None:
        conditions.append(ResultRow.score >= flt.score_min)
    if flt.score_max is not None:
        conditions.append(ResultRow.score <= flt.score_max)
    if flt.tag:
        conditions.append(_tag_condition(dialect, flt.tag))
    if flt.evaluator:
        conditions.append(_verdict_condition(dialect, flt.evaluator, flt.verdict))
    elif flt.verdict is not None:
        raise ValidationFailed("choose the evaluator whose verdict to filter on", attr="evaluator")
    if flt.search:
        conditions.append(_search_condition(flt.search))
    return conditions


def _joined(query: Select[Any]) -> Select[Any]:
    return query.select_from(ResultRow).outerjoin(TestCaseRow, TestCaseRow.id == ResultRow.test_case_id)


def encode_cursor(sort: ResultSort, direction: Literal["next", "previous"], value: Any, result_id: uuid.UUID) -> str:
    """An opaque cursor: the sort it belongs to, which way it points, and the edge row's sort value and id."""
    if isinstance(value, uuid.UUID):
        value = str(value)
    raw = json.dumps([sort.token, direction[0], value, str(result_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: ResultSort, cursor: str) -> tuple[Literal["next", "previous"], Any, uuid.UUID]:
    """The cursor's direction, sort value and id; a cursor of another sort or a damaged one is a 4xx."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        token, direction, value, result_id = json.loads(raw)
        parsed_id = uuid.UUID(result_id)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("the page cursor is not valid", attr="cursor") from exc
    if token != sort.token or direction not in ("n", "p"):
        raise ValidationFailed("the page cursor belongs to another sort", attr="cursor")
    if value is not None and not isinstance(value, str | int | float):
        raise ValidationFailed("the page cursor is not valid", attr="cursor")
    if sort.key == "created":
        value = parsed_id
    return ("next" if direction == "n" else "previous"), value, parsed_id


def _beyond(
    expression: ColumnElement[Any], descending: bool, value: Any, result_id: uuid.UUID, *, forward: bool
) -> ColumnElement[bool]:
    """Rows after (forward) or before the cursor row in the order (value nulls last, then id; both one way)."""

    def past(column: Any, bound: Any) -> ColumnElement[bool]:
        beyond: ColumnElement[bool] = column < bound if descending else column > bound
        return beyond

    def short_of(column: Any, bound: Any) -> ColumnElement[bool]:
        before: ColumnElement[bool] = column > bound if descending else column < bound
        return before

    if forward:
        if value is None:
            return and_(expression.is_(None), past(ResultRow.id, result_id))
        later = or_(past(expression, value), and_(expression == value, past(ResultRow.id, result_id)))
        return or_(and_(expression.is_not(None), later), expression.is_(None))
    if value is None:
        return or_(expression.is_not(None), and_(expression.is_(None), short_of(ResultRow.id, result_id)))
    earlier = or_(short_of(expression, value), and_(expression == value, short_of(ResultRow.id, result_id)))
    return and_(expression.is_not(None), earlier)


_NOT_NULL: frozenset[str] = frozenset({"created", "repetition", "status", "judge_tokens"})


def _ordered(query: Select[Any], sort: ResultSort, *, forward: bool) -> Select[Any]:
    """Order by the sort value (nulls last) then id, both one way; reversed to read a previous page."""
    expression = _sort_expression(sort.key)
    down = sort.descending == forward
    terms: list[ColumnElement[Any]] = []
    if sort.key not in _NOT_NULL:
        nulls_last = case((expression.is_(None), 1), else_=0)
        terms.append(nulls_last.asc() if forward else nulls_last.desc())
    if sort.key != "created":
        terms.append(expression.desc() if down else expression.asc())
    terms.append(ResultRow.id.desc() if down else ResultRow.id.asc())
    return query.order_by(*terms)


def _tags(value: Any) -> list[str]:
    return [str(t) for t in value] if isinstance(value, list) else []


async def count_results(*, session: AsyncSession, run_id: uuid.UUID, flt: ResultFilter) -> int:
    """How many of the run's results the filter lets through."""
    query = _joined(select(func.count())).where(*_conditions(_dialect(session), run_id, flt))
    return int(await session.scalar(query) or 0)


async def result_page(
    *,
    session: AsyncSession,
    run_id: uuid.UUID,
    flt: ResultFilter,
    sort: ResultSort,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    matching: int | None = None,
) -> ResultPage:
    """One keyset page of the filtered, sorted results (`cursor` from a previous page's next/previous).

    `matching`, when the caller knows how many results the filter lets through, saves counting them."""
    expression = _sort_expression(sort.key)
    conditions = _conditions(_dialect(session), run_id, flt)
    forward = True
    if cursor is not None:
        direction, value, result_id = decode_cursor(sort, cursor)
        forward = direction == "next"
        conditions.append(_beyond(expression, sort.descending, value, result_id, forward=forward))
    # A text search scans nearly every row to fill a page, so its first page counts the match in the same scan.
    counted_here = cursor is None and flt.search is not None and matching is None
    query = _joined(
        select(
            ResultRow.id,
            ResultRow.test_case_id,
            ResultRow.repetition,
            ResultRow.status,
            ResultRow.score,
            ResultRow.original_score.is_not(None),
            ResultRow.latency_ms,
            ResultRow.tokens_used,
            ResultRow.judge_tokens,
            func.substr(TestCaseRow.input_message, 1, PREVIEW_CHARS),
            TestCaseRow.tags,
            func.substr(ResultRow.agent_response, 1, PREVIEW_CHARS),
            func.substr(ResultRow.score_reason, 1, PREVIEW_CHARS),
            func.substr(ResultRow.error, 1, PREVIEW_CHARS),
            expression,
            *([func.count().over()] if counted_here else []),
        )
    ).where(*conditions)
    rows = list((await session.execute(_ordered(query, sort, forward=forward).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    items = [
        ResultListItem(
            id=r[0],
            test_case_id=r[1],
            repetition=r[2],
            status=r[3],
            score=r[4],
            overridden=bool(r[5]),
            latency_ms=r[6],
            tokens_used=r[7],
            judge_tokens=r[8] or 0,
            input_preview=r[9],
            tags=_tags(r[10]),
            response_preview=r[11],
            reason_preview=r[12],
            error_preview=r[13],
        )
        for r in rows
    ]
    has_next = more if forward else True
    has_previous = (cursor is not None) if forward else more
    next_cursor = encode_cursor(sort, "next", rows[-1][14], rows[-1][0]) if rows and has_next else None
    previous_cursor = encode_cursor(sort, "previous", rows[0][14], rows[0][0]) if rows and has_previous else None
    if counted_here:
        matching = int(rows[0][15]) if rows else 0
    elif matching is None and cursor is None and not more:
        matching = len(items)  # the whole match fits on this first page: no second scan to count it
    elif matching is None:
        matching = await count_results(session=session, run_id=run_id, flt=flt)
    return ResultPage(items, matching, next_cursor, previous_cursor)


async def neighbours(
    *, session: AsyncSession, run_id: uuid.UUID, result_id: uuid.UUID, flt: ResultFilter, sort: ResultSort
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The results just before and just after this one in the table's order (None at an end)."""
    expression = _sort_expression(sort.key)
    conditions = _conditions(_dialect(session), run_id, flt)
    value = await session.scalar(_joined(select(expression)).where(ResultRow.id == result_id))
    found: list[uuid.UUID | None] = []
    for forward in (False, True):
        query = _joined(select(ResultRow.id)).where(
            *conditions, _beyond(expression, sort.descending, value, result_id, forward=forward)
        )
        found.append(await session.scalar(_ordered(query, sort, forward=forward).limit(1)))
    return found[0], found[1]


def _floor(dialect: str, value: ColumnElement[Any]) -> ColumnElement[int]:
    """floor() of a non-negative number (SQLite's CAST truncates, PostgreSQL's rounds; SQLite may lack floor())."""
    if dialect == "postgresql":
        return cast(func.floor(value), Integer)
    return cast(value, Integer)


def _scored() -> ColumnElement[bool]:
    return and_(ResultRow.score.is_not(None), ResultRow.status.in_(("passed", "failed")))


async def run_distributions(
    *, session: AsyncSession, run_id: uuid.UUID, latency_edges: Callable[[float], list[float]]
) -> RunDistributions:
    """Score moments and ten score buckets, latency buckets (edges from `latency_edges(max latency)`, equal
    steps from 0) and (tag, passed, graded) per tag, in a few aggregate queries (no result row is loaded)."""
    scored = _scored()
    moments = (
        await session.execute(
            select(
                func.count(case((scored, ResultRow.score))),
                func.sum(case((scored, ResultRow.score))),
                func.sum(case((scored, ResultRow.score * ResultRow.score))),
                func.max(ResultRow.latency_ms),
            ).where(ResultRow.run_id == run_id)
        )
    ).one()
    dialect = _dialect(session)
    bucket = case((ResultRow.score >= 100, 9), else_=_floor(dialect, ResultRow.score / 10))
    score_buckets = [0] * 10
    for index, count in (
        await session.execute(
            select(bucket, func.count()).where(ResultRow.run_id == run_id, _scored()).group_by(bucket)
        )
    ).all():
        score_buckets[min(9, max(0, int(index)))] += int(count)
    top = moments[3]
    edges = latency_edges(float(top) if top is not None else 0.0)
    latency_buckets = [0] * (len(edges) - 1)
    if top is not None and len(edges) > 1:
        step = edges[1] - edges[0]
        slot = _floor(dialect, ResultRow.latency_ms / step)
        query = select(slot, func.count()).where(ResultRow.run_id == run_id, ResultRow.latency_ms.is_not(None))
        for index, count in (await session.execute(query.group_by(slot))).all():
            latency_buckets[min(len(latency_buckets) - 1, max(0, int(index)))] += int(count)
    return RunDistributions(
        scored=int(moments[0] or 0),
        score_sum=float(moments[1] or 0.0),
        score_square_sum=float(moments[2] or 0.0),
        score_buckets=score_buckets,
        latency_max=float(top) if top is not None else None,
        latency_edges=edges,
        latency_buckets=latency_buckets,
        tag_rates=await _tag_rates(session, run_id),
    )


async def _tag_rates(session: AsyncSession, run_id: uuid.UUID) -> list[tuple[str, int, int]]:
    """(tag, passed, graded) for every tag of the run's cases; graded counts errors, as the summary's pass rate
    does, and is 0 for a tag whose results are all unscored.

    The database groups by each case's whole tag list (runs have few distinct lists), and the lists are split
    here: far cheaper than expanding every row's JSON in SQL.
    """
    passed = func.sum(case((ResultRow.status == "passed", 1), else_=0))
    graded = func.sum(case((ResultRow.status.in_(("passed", "failed", "error")), 1), else_=0))
    query = _joined(select(TestCaseRow.tags, passed, graded)).where(ResultRow.run_id == run_id)
    counts: dict[str, list[int]] = {}
    for tags, passed_count, graded_count in (await session.execute(query.group_by(TestCaseRow.tags))).all():
        for tag in dict.fromkeys(_tags(tags)):
            entry = counts.setdefault(tag, [0, 0])
            entry[0] += int(passed_count or 0)
            entry[1] += int(graded_count or 0)
    return [(tag, p, g) for tag, (p, g) in sorted(counts.items())]


async def evaluator_names(*, session: AsyncSession, run_id: uuid.UUID) -> list[str]:
    """The evaluators that gave verdicts in this run, as the first result that has verdicts names them."""
    query = select(ResultRow.evaluator_results).where(
        ResultRow.run_id == run_id, ResultRow.status.in_(("passed", "failed"))
    )
    first = await session.scalar(query.order_by(ResultRow.id).limit(1))
    names = [str(v.get("evaluator")) for v in first or [] if isinstance(v, dict) and v.get("evaluator")]
    return list(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class ExportedResult:
    """A whole result with its case's input and tags, for exports and the detail view."""

    row: ResultRow
    input_message: str | None
    tags: list[str]


async def export_results(
    *, sessionmaker: SessionFactory, run_id: uuid.UUID, flt: ResultFilter, batch: int = EXPORT_BATCH
) -> AsyncIterator[list[ExportedResult]]:
    """The filtered results in id order, `batch` at a time, each batch in a short session of its own."""
    after: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session:
            conditions = _conditions(_dialect(session), run_id, flt)
            if after is not None:
                conditions.append(ResultRow.id > after)
            query = _joined(select(ResultRow, TestCaseRow.input_message, TestCaseRow.tags)).where(*conditions)
            rows = (await session.execute(query.order_by(ResultRow.id).limit(batch))).all()
        if not rows:
            return
        yield [ExportedResult(r[0], r[1], _tags(r[2])) for r in rows]
        if len(rows) < batch:
            return
        after = rows[-1][0].id


async def get_run_result(*, session: AsyncSession, run_id: uuid.UUID, result_id: uuid.UUID) -> ExportedResult | None:
    """One result of the run with its case's current input and tags (None when it is not this run's)."""
    query = _joined(select(ResultRow, TestCaseRow.input_message, TestCaseRow.tags)).where(
        ResultRow.id == result_id, ResultRow.run_id == run_id
    )
    row = (await session.execute(query)).first()
    return ExportedResult(row[0], row[1], _tags(row[2])) if row is not None else None


async def snapshot_case(*, session: AsyncSession, run_id: uuid.UUID, case_id: uuid.UUID) -> dict[str, Any] | None:
    """The test case as the run saw it (input, expected behaviour and tool calls, tags), taken out of the
    snapshot by the database, so the whole snapshot is never decoded here."""
    if _dialect(session) == "postgresql":
        statement = text(
            "SELECT c FROM runs, jsonb_array_elements(runs.snapshot->'cases') AS c "
            "WHERE runs.id = :run_id AND c->>'id' = :case_id LIMIT 1"
        ).bindparams(run_id=run_id, case_id=str(case_id))
    else:
        statement = text(
            "SELECT c.value FROM runs, json_each(runs.snapshot, '$.cases') AS c "
            "WHERE runs.id = :run_id AND json_extract(c.value, '$.id') = :case_id LIMIT 1"
        ).bindparams(run_id=run_id.hex, case_id=str(case_id))
    found = await session.scalar(statement)
    if found is None:
        return None
    value = json.loads(found) if isinstance(found, str | bytes) else found
    return value if isinstance(value, dict) else None
