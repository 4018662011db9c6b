"""`evaluate` / `evaluate_sync`: run a dataset against an agent with the run engine, in this process.

The run goes through what `assay run` uses (`local/runner.py`): the suite is stored, snapshotted and run by
`engine/runs/executor.py` (concurrency, retries, per-endpoint limits, the judge cache in the database), so the
only difference from the command is where the database is: a temporary one by default (deleted afterwards),
the configured local one with `store="local"` (the run then shows in `assay compare` and the web UI), or any
database URL. With `server=` the suite runs on an Assay server instead (agents and evaluators that are
local Python code cannot).
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from assay.domain.runs import DEFAULT_PASS_THRESHOLD
from assay.evals._agent import AgentLike, instance_config
from assay.evals._dataset import Case, Dataset
from assay.evals._evaluators import EvaluatorLike, to_evaluator
from assay.evals._report import EvalReport
from assay.local.suitefile import SuiteFile
from assay.settings import Settings, get_settings
from assay.trusted_code import enable_trusted_code

_template: dict[str, Path] = {}


async def _scratch_database(folder: Path) -> str:
    """A fresh, migrated SQLite database in `folder`: a copy of one migrated once per process."""
    from assay.storage.db import make_engine
    from assay.storage.migrate import upgrade

    if "path" not in _template:
        home = Path(tempfile.mkdtemp(prefix="assay-evals-template-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        engine = make_engine(f"sqlite+aiosqlite:///{home / 'template.db'}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        _template["path"] = home / "template.db"
    shutil.copyfile(_template["path"], folder / "evals.db")
    return f"sqlite+aiosqlite:///{folder / 'evals.db'}"


Store = Literal["temporary", "local"] | str
"""Where the run is kept: `temporary` (discarded), `local` (ASSAY_DATABASE_URL), or a database URL."""


def _suite(
    dataset: Dataset,
    agent: AgentLike | None,
    evaluators: Sequence[EvaluatorLike] | None,
    *,
    name: str | None,
    pass_threshold: float | None,
    concurrency: int | None,
    repetitions: int | None,
    timeout_s: float,
) -> SuiteFile:
    base = dataset.suite
    if agent is None and base is None:
        raise ValueError("give an agent: a callable, 'module:function' or an instance config")
    if evaluators is None and base is None:
        raise ValueError("give at least one evaluator (a check name, judge(), python(fn), a dict or a callable)")
    instance = instance_config(agent, timeout_s=timeout_s) if agent is not None else dict(base.instance)  # type: ignore[union-attr]
    if evaluators is not None:
        items = [to_evaluator(e).item() for e in evaluators]
        if not items:
            raise ValueError("give at least one evaluator")
    else:
        items = list(base.items)  # type: ignore[union-attr]
    cases = [c.to_dict() for c in dataset.cases]
    if not cases and not dataset.stored_dataset:
        raise ValueError("the dataset has no cases")
    threshold = (
        pass_threshold if pass_threshold is not None else (base.pass_threshold if base else DEFAULT_PASS_THRESHOLD)
    )
    if not 0 <= threshold <= 100:
        raise ValueError("pass_threshold is a score from 0 to 100")
    suite_name = (name or dataset.name).strip()
    if not 1 <= len(suite_name) <= 200:
        raise ValueError("the name must have 1 to 200 characters")
    for label, value, top in (("concurrency", concurrency, 1000), ("repetitions", repetitions, 100)):
        if value is not None and not 1 <= value <= top:
            raise ValueError(f"{label} must be from 1 to {top}")
    return SuiteFile(
        path=base.path if base else Path.cwd() / "evals.yaml",
        name=suite_name,
        description=base.description if base else None,
        instance=instance,
        items=items,
        pass_threshold=float(threshold),
        concurrency=concurrency or (base.concurrency if base else 8),
        repetitions=repetitions or (base.repetitions if base else 1),
        cases=cases,
        dataset=dataset.stored_dataset,
    )


async def evaluate(
    dataset: Dataset | Iterable[Case | str | Mapping[str, Any]],
    agent: AgentLike | None = None,
    evaluators: Sequence[EvaluatorLike] | None = None,
    *,
    name: str | None = None,
    pass_threshold: float | None = None,
    concurrency: int | None = None,
    repetitions: int | None = None,
    timeout_s: float = 60.0,
    store: Store = "temporary",
    environment: str = "local",
    settings: Settings | None = None,
    server: str | None = None,
    api_key: str | None = None,
    progress: bool = False,
    resume: bool | str = False,
) -> EvalReport:
    """Run every case of `dataset` through `agent`, score it with `evaluators`, and return the report.

    Args:
        dataset: a `Dataset` (`Dataset.from_suite(path)` brings its agent and evaluators), or cases.
        agent: a callable (sync or async) getting the input, `module:function`, or an instance config
            (`{"kind": "openai_chat", ...}`, `{"kind": "http", ...}`); default: the suite file's.
        evaluators: check names, `check()`, `judge()`, `hog()`, `python()`, dicts or callables; default: the suite's.
        name: the suite name runs are stored under (default: the dataset's).
        pass_threshold: the score (0-100) a case must reach to pass (default 70, or the suite's).
        concurrency: cases in flight (default 8, or the suite's); repetitions: runs of every case.
        timeout_s: the time a Python agent has for one case.
        store: `temporary` (default: nothing kept), `local` (the configured database: `assay compare`, the web
            UI), or a database URL.
        environment: the environment of that database the run belongs to.
        settings: instead of the process's (`ASSAY_*` variables: the judge model, the database).
        server, api_key: run on this Assay server instead (no local Python agent or evaluator).
        progress: show a progress bar (done, errors) on stderr while the cases run.
        resume: continue an interrupted run of this suite in the stored database instead of starting one
            (`True`: its latest run, or a run id): only the cases without a result run.

    Raises ValueError for an invalid dataset, agent or evaluator, and `assay.errors.DomainError` (e.g. a judge
    without a model) before any case runs. Failing cases are results, never exceptions.
    """
    from assay.local.remote import run_remote
    from assay.local.runner import run_local

    if not isinstance(dataset, Dataset):
        dataset = Dataset.of(dataset)
    suite = _suite(
        dataset,
        agent,
        evaluators,
        name=name,
        pass_threshold=pass_threshold,
        concurrency=concurrency,
        repetitions=repetitions,
        timeout_s=timeout_s,
    )
    if resume and (server or store == "temporary"):
        raise ValueError("resume needs the run's database: store='local' or a database URL")
    if server:
        if suite.instance_kind == "python" or suite.has_python_evaluators:
            raise ValueError("a Python agent or evaluator runs local code and cannot run on a server")
        with _progress(progress, suite) as report:
            outcome = await run_remote(suite, server, api_key or "", repetitions=repetitions, progress=report)
        return EvalReport.from_outcome(outcome, stored_in=server)
    enable_trusted_code()
    if dataset.suite is not None:
        folder = str(dataset.suite.path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
    base = settings or get_settings()
    scratch: str | None = None
    if store == "temporary":
        scratch = tempfile.mkdtemp(prefix="assay-evals-")
        base = base.model_copy(update={"database_url": await _scratch_database(Path(scratch))})
    elif store != "local":
        base = base.model_copy(update={"database_url": store})
    try:
        with _progress(progress, suite) as report:
            outcome = await run_local(
                suite,
                base,
                environment=environment,
                repetitions=repetitions,
                progress=report,
                resume=None if not resume else ("latest" if resume is True else uuid.UUID(str(resume))),
            )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return EvalReport.from_outcome(outcome, stored_in=None if scratch else base.database_url)


@contextmanager
def _progress(show: bool, suite: SuiteFile) -> Iterator[Callable[[int, int, int], None] | None]:
    """A rich progress bar on stderr fed by the runner's (done, errors, total) callback, or None."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[errors]} errors"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(suite.name, total=len(suite.cases) * suite.repetitions, errors=0)

    def report(done: int, errors: int, total: int) -> None:
        bar.update(task, completed=done, total=total, errors=errors)

    with bar:
        yield report


def evaluate_sync(*args: Any, **kwargs: Any) -> EvalReport:
    """`evaluate` from synchronous code: a script, a test, or a notebook whose event loop already runs.

    With no loop running in this thread it runs one; with one (Jupyter), it runs the evaluation on its own
    loop in a worker thread and waits for it. Sync agents and evaluators use a thread pool sized to the
    concurrency, so it never caps it.
    """
    concurrency = int(kwargs.get("concurrency") or 8)

    def run() -> EvalReport:
        async def main() -> EvalReport:
            threads = ThreadPoolExecutor(max_workers=max(concurrency, 8) + 4, thread_name_prefix="assay-evals")
            asyncio.get_running_loop().set_default_executor(threads)
            return await evaluate(*args, **kwargs)

        return asyncio.run(main())

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="assay-evals-loop") as pool:
        return pool.submit(run).result()


__all__ = ["Store", "evaluate", "evaluate_sync"]
