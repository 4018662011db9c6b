"""What `evaluate` returns: one `CaseReport` per case and repetition, the run's `Summary`, a printable table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from assay.local.gates import gate_problems, parse_gate
from assay.local.outcome import RunOutcome

_STYLE = {"passed": "green", "failed": "red", "error": "yellow"}


@dataclass(frozen=True, slots=True)
class CaseReport:
    """One case (one repetition of it): what the agent did and how it was scored."""

    index: int
    """The case's position in the dataset."""
    name: str
    input: str
    repetition: int
    status: str
    """`passed`, `failed`, `error` or `unscored`."""
    score: float | None
    """0-100, None when the case could not be scored."""
    reason: str | None
    response: str | None
    tool_calls: list[dict[str, Any]]
    latency_ms: float | None
    tokens: int | None
    error: str | None
    evaluators: list[dict[str, Any]]
    """Each evaluator's verdict: `evaluator`, `status`, `score` (0-1), `reason`, `error`."""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CaseReport:
        return cls(
            index=int(record["case"]),
            name=str(record["name"]),
            input=str(record.get("input") or ""),
            repetition=int(record.get("repetition") or 0),
            status=str(record["status"]),
            score=record.get("score"),
            reason=record.get("reason"),
            response=record.get("response"),
            tool_calls=list(record.get("tool_calls") or []),
            latency_ms=record.get("latency_ms"),
            tokens=record.get("tokens"),
            error=record.get("error"),
            evaluators=list(record.get("evaluators") or []),
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """The run's counts and aggregates."""

    total: int
    passed: int
    failed: int
    errors: int
    unscored: int
    pass_rate: float | None
    """Passed over passed + failed, 0-1."""
    mean_score: float | None
    """Mean score (0-100) of the scored cases."""
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    tokens_used: int | None
    judge_tokens: int | None
    duration_s: float | None

    @classmethod
    def from_dict(cls, s: dict[str, Any]) -> Summary:
        return cls(
            total=int(s.get("total") or 0),
            passed=int(s.get("passed") or 0),
            failed=int(s.get("failed") or 0),
            errors=int(s.get("error") or 0),
            unscored=int(s.get("unscored") or 0),
            pass_rate=s.get("pass_rate"),
            mean_score=s.get("mean_score"),
            latency_p50_ms=s.get("latency_p50_ms"),
            latency_p95_ms=s.get("latency_p95_ms"),
            tokens_used=s.get("tokens_used"),
            judge_tokens=s.get("judge_tokens"),
            duration_s=s.get("duration_s"),
        )

    def line(self) -> str:
        """One line: counts, pass rate, mean score, latency, duration."""
        rate = "–" if self.pass_rate is None else f"{self.pass_rate * 100:.1f}%"
        mean = "–" if self.mean_score is None else f"{self.mean_score:g}"
        return (
            f"{self.passed} passed, {self.failed} failed, {self.errors} errors, {self.unscored} unscored · "
            f"pass rate {rate} · mean score {mean} · p50 {self.latency_p50_ms if self.latency_p50_ms is not None else '–'} ms"
            f" · {self.duration_s if self.duration_s is not None else '–'} s"
        )


@dataclass(slots=True)
class EvalReport:
    """A finished evaluation: its cases, summary, and where the run is stored (None: nowhere)."""

    name: str
    run_id: str
    status: str
    """`completed`, `failed` or `cancelled`."""
    summary: Summary
    cases: list[CaseReport]
    pass_threshold: float
    stored_in: str | None
    """The database URL or server the run is kept in (for `assay compare` and the web UI); None: discarded."""
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    """The report as `assay run --json` writes it."""

    @classmethod
    def from_outcome(cls, outcome: RunOutcome, *, stored_in: str | None) -> EvalReport:
        return cls(
            name=outcome.suite,
            run_id=outcome.run_id,
            status=outcome.status,
            summary=Summary.from_dict(outcome.summary),
            cases=[CaseReport.from_record(r) for r in outcome.results],
            pass_threshold=outcome.pass_threshold,
            stored_in=stored_in,
            error=outcome.error,
            raw=outcome.to_json(),
        )

    @property
    def failures(self) -> list[CaseReport]:
        """The cases that failed or errored."""
        return [c for c in self.cases if c.status in ("failed", "error")]

    def gate_problems(self, fail_under: list[str] | None = None, max_errors: int | None = None) -> list[str]:
        """What the run missed of `assay run`'s gates: `fail_under` (`0.8`, `pass_rate=0.8`, `score=70`),
        more errors than `max_errors`, a run that did not complete. Empty: every gate is met."""
        gates = [parse_gate(g) for g in fail_under or []]
        return gate_problems(
            self.raw.get("summary") or {}, gates, max_errors=max_errors, status=self.status, error=self.error
        )

    def table(self, *, max_rows: int = 200) -> Table:
        """The per-case table (rich)."""
        table = Table(title=f"{self.name}  (run {self.run_id})")
        for column, justify in (
            ("case", "left"),
            ("status", "left"),
            ("score", "right"),
            ("latency ms", "right"),
            ("reason", "left"),
        ):
            table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for c in self.cases[:max_rows]:
            lines = [line for line in (c.reason or c.error or "").splitlines() if line.strip()]
            shown = lines[:1] if c.status == "passed" else (lines[1:3] or lines[:1])
            reason = " · ".join(shown)
            table.add_row(
                c.name if not c.repetition else f"{c.name} (rep {c.repetition + 1})",
                f"[{_STYLE.get(c.status, 'dim')}]{c.status}[/]",
                "–" if c.score is None else f"{c.score:g}",
                "–" if c.latency_ms is None else f"{c.latency_ms:.0f}",
                reason if len(reason) <= 140 else reason[:139] + "…",
            )
        return table

    def print(self, console: Console | None = None) -> None:
        """Print the table and the summary line."""
        console = console or Console()
        console.print(self.table())
        console.print(f"[bold]{self.status}[/bold]: {self.summary.line()}", highlight=False)

    def __rich__(self) -> Table:
        return self.table()

    def __str__(self) -> str:
        return f"{self.name} (run {self.run_id}) {self.status}: {self.summary.line()}"
