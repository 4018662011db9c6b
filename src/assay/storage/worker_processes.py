"""Worker processes as they report themselves (concurrency, load), and the queue's figures for `assay worker status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.queue_tables import RateBudgetRow, WorkerProcessRow
from assay.storage.types import utcnow


async def report(
    *, session: AsyncSession, name: str, queue_worker_id: int | None, concurrency: int, jobs: int, in_flight: int
) -> None:
    """Insert or refresh this process's row (its heartbeat); the caller commits."""
    now = utcnow()
    values = {
        "name": name,
        "queue_worker_id": queue_worker_id,
        "concurrency": concurrency,
        "jobs": jobs,
        "in_flight": in_flight,
        "heartbeat_at": now,
    }
    statement = postgresql.insert(WorkerProcessRow).values(**values, started_at=now)
    await session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


async def forget(*, session: AsyncSession, name: str) -> None:
    """Remove this process's row (a clean stop); the caller commits."""
    await session.execute(delete(WorkerProcessRow).where(WorkerProcessRow.name == name))


async def forget_silent(*, session: AsyncSession, seconds: float) -> None:
    """Remove rows of processes silent for longer than `seconds` (killed ones); the caller commits."""
    await session.execute(
        delete(WorkerProcessRow).where(WorkerProcessRow.heartbeat_at < utcnow() - timedelta(seconds=seconds))
    )


@dataclass(frozen=True, slots=True)
class WorkerView:
    """One worker process for the status view."""

    name: str
    concurrency: int
    jobs: int
    in_flight: int
    started_at: datetime
    heartbeat_at: datetime
    alive: bool


@dataclass(frozen=True, slots=True)
class BudgetView:
    """One cluster-wide token bucket: its rate per minute, capacity and fill right now."""

    name: str
    label: str
    per_minute: float
    capacity: float
    tokens: float


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """Everything `assay worker status` and `GET /v1/workers` show."""

    workers: list[WorkerView]
    queues: dict[str, dict[str, int]]
    stalled_jobs: int
    budgets: list[BudgetView]


async def queue_status(*, session: AsyncSession, stalled_seconds: float) -> QueueStatus:
    """Workers (alive when their heartbeat is recent), jobs per queue and status, stalled jobs, budgets' fill."""
    now = utcnow()
    rows = (await session.scalars(select(WorkerProcessRow).order_by(WorkerProcessRow.name))).all()
    workers = [
        WorkerView(
            name=r.name,
            concurrency=r.concurrency,
            jobs=r.jobs,
            in_flight=r.in_flight,
            started_at=r.started_at,
            heartbeat_at=r.heartbeat_at,
            alive=(now - r.heartbeat_at).total_seconds() < stalled_seconds,
        )
        for r in rows
    ]
    queues: dict[str, dict[str, int]] = {}
    stalled = 0
    if await session.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")):
        counts = await session.execute(
            text("SELECT queue_name, status::text, count(*) FROM procrastinate_jobs GROUP BY 1, 2")
        )
        for queue, status, count in counts.all():
            queues.setdefault(queue, {})[status] = int(count)
        stalled = int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id"
                    " WHERE j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => :s))"
                ),
                {"s": stalled_seconds},
            )
            or 0
        )
    budgets = [
        _budget_view(b, now) for b in (await session.scalars(select(RateBudgetRow).order_by(RateBudgetRow.name)))
    ]
    return QueueStatus(workers=workers, queues=queues, stalled_jobs=stalled, budgets=budgets)


def _budget_view(row: RateBudgetRow, now: datetime) -> BudgetView:
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    return BudgetView(
        name=row.name,
        label=row.label,
        per_minute=row.rate * 60.0,
        capacity=row.capacity,
        tokens=min(row.capacity, row.tokens + elapsed * row.rate),
    )


def as_dict(status: QueueStatus) -> dict[str, Any]:
    """The status as JSON-ready data."""
    return {
        "workers": [
            {
                "name": w.name,
                "alive": w.alive,
                "concurrency": w.concurrency,
                "jobs": w.jobs,
                "in_flight": w.in_flight,
                "load": round(w.in_flight / w.concurrency, 3) if w.concurrency else 0.0,
                "started_at": w.started_at.isoformat(),
                "heartbeat_at": w.heartbeat_at.isoformat(),
            }
            for w in status.workers
        ],
        "queues": status.queues,
        "stalled_jobs": status.stalled_jobs,
        "budgets": [
            {
                "name": b.name,
                "label": b.label,
                "per_minute": round(b.per_minute, 3),
                "capacity": round(b.capacity, 3),
                "tokens": round(b.tokens, 3),
                "fill": round(b.tokens / b.capacity, 3) if b.capacity else 0.0,
            }
            for b in status.budgets
        ],
    }
