"""Server settings, read from `ASSAY_*` environment variables (and a `.env` file when present)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from assay.sandbox.pool import PoolConfig

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./assay.db"
_DEV_SECRET = "assay-development-secret-change-me"


class Settings(BaseSettings):
    """Configuration of one Assay process. Build it with `get_settings()` or directly in tests."""

    model_config = SettingsConfigDict(env_prefix="ASSAY_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy async URL: `sqlite+aiosqlite:///path.db` (default) or `postgresql+asyncpg://…`."""
    mode: Literal["development", "production"] = "development"
    """In production mode a missing secret key is a start-up error instead of a warning."""
    secret_key: str = Field(default=_DEV_SECRET, repr=False)
    """Encrypts provider keys and instance secrets at rest."""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    """Base URL printed to users and used in absolute links; defaults to http://host:port."""
    max_body_bytes: int = 20 * 1024 * 1024
    """Requests with larger bodies are refused with 413."""
    db_pool_size: int = 10
    workers: int = 1
    """`assay serve` executes runs and online evaluations itself when above 0; with 0 it only queues them."""
    log_level: str = "info"
    judge_model: str | None = None
    """Server-wide default judge as `provider/model` (e.g. `openai/gpt-4o-mini`), used when a judge names no model."""
    judge_base_url: str | None = None
    """Base URL of the default judge's OpenAI-compatible server; else the provider's usual variable (OPENAI_BASE_URL)."""
    judge_api_key: str | None = Field(default=None, repr=False)
    """Key of the default judge; else the provider's usual variable (OPENAI_API_KEY, ANTHROPIC_API_KEY)."""
    judge_max_tokens: int = Field(default=1024, ge=1, le=1_000_000)
    """Output cap (`max_tokens`) of each judge call, unless a recipe's judge sets its own `max_tokens`."""
    run_concurrency: int = 50
    """Cases of one run in flight at once (each endpoint still has its own limit)."""
    max_parallel_runs: int = 4
    """Runs one process executes at the same time."""
    run_lease_seconds: float = 20.0
    """A running run whose worker has not reported for this long is taken over (after a crash)."""
    dispatch: Literal["auto", "in_process", "queue"] = "auto"
    """How runs and online evaluations are dispatched: `auto` is the job queue on PostgreSQL, in-process on SQLite."""
    chunk_size: int = Field(default=100, ge=1, le=100_000)
    """On PostgreSQL a run is split into chunk jobs of this many (case, repetition) pairs."""
    worker_concurrency: int = Field(default=50, ge=1, le=10_000)
    """Cases one `assay worker` process evaluates at once, across its jobs (`--concurrency`)."""
    worker_jobs: int = Field(default=4, ge=1, le=1000)
    """Queue jobs (chunks, online passes) one `assay worker` process holds at once."""
    queue_heartbeat_seconds: float = Field(default=2.0, gt=0)
    """How often a worker process reports it is alive (its queue heartbeat and its status row)."""
    queue_stalled_seconds: float = Field(default=30.0, gt=0)
    """A job whose worker has sent no heartbeat for this long is retried by the periodic recovery."""
    ui_session_seconds: int = Field(default=12 * 3600, ge=60)
    """How long a web UI sign-in lasts."""
    password_memory_kib: int = Field(default=65536, ge=64)
    """Memory (KiB) of each argon2id password hash of a web UI account."""
    password_time_cost: int = Field(default=3, ge=1)
    """Passes of each argon2id password hash."""
    online_evaluation: bool = True
    """Run enabled evaluations on ingested `$ai_generation` events (the scheduler starts with `workers > 0`)."""
    online_poll_seconds: float = 0.25
    """How often the online scheduler looks for new events and queued runs when nobody wakes it."""
    online_concurrency: int = 64
    """Evaluation runs one process executes at the same time."""
    online_lease_seconds: float = 360.0
    """A claimed evaluation run not finished within this long is retried by any scheduler (its worker died)."""
    online_max_attempts: int = Field(default=3, ge=1)
    """Attempts of one evaluation run, retries of provider errors and timeouts included (as PostHog's judge)."""
    online_retry_seconds: float = Field(default=10.0, ge=0)
    """Wait before the first retry of a failed evaluation run; doubled for each further retry."""
    online_retry_max_seconds: float = Field(default=60.0, ge=0)
    """Longest wait between two attempts of an evaluation run."""
    otlp_log_wait_seconds: float = Field(default=10.0, ge=0)
    """How long an OTLP generation span without messages waits for the log events that carry them (0: never)."""
    sandbox_workers: int = Field(default=2, ge=1, le=64)
    """Warm worker processes that run sandboxed Python evaluators (docs/python-evaluators.md)."""
    sandbox_timeout_seconds: float = Field(default=1.0, gt=0, le=60)
    """Wall-clock limit of one Python evaluator call; the worker is killed and replaced when it is exceeded."""
    sandbox_memory_mb: int = Field(default=512, ge=64, le=65536)
    """Address-space limit of each sandbox worker."""
    sandbox_required_layers: str = "environment,descriptors,uid,namespaces,capabilities,landlock,rlimits,seccomp"
    """Comma-separated sandbox layers without which Python evaluators are refused (see `assay doctor`)."""
    sandbox_skip_layers: str = ""
    """Comma-separated layers the workers do not apply (to measure one, or to see the refusal); empty in use."""
    online_trace_idle_seconds: float = Field(default=300.0, gt=0)
    """How long a trace (or session) must go without new events before a trace-level evaluation runs on it,
    unless the evaluation sets its own `idle_seconds`."""

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.mode == "production" and self.secret_key == _DEV_SECRET:
            raise ValueError("ASSAY_SECRET_KEY must be set in production mode (ASSAY_MODE=production)")
        return self

    @model_validator(mode="after")
    def _judge_from_provider_variables(self) -> Settings:
        """An unset judge URL or key is the judge provider's usual variable (OPENAI_BASE_URL, ANTHROPIC_API_KEY)."""
        judge = self.judge_provider_and_model
        if judge is not None:
            prefix = judge[0].upper()
            self.judge_base_url = self.judge_base_url or os.environ.get(f"{prefix}_BASE_URL")
            self.judge_api_key = self.judge_api_key or os.environ.get(f"{prefix}_API_KEY")
        return self

    def sandbox_pool_config(self) -> PoolConfig:
        """The sandbox pool these settings describe."""
        from assay.sandbox.pool import PoolConfig
        from assay.sandbox.process import WorkerConfig

        def names(text: str) -> tuple[str, ...]:
            return tuple(n.strip() for n in text.split(",") if n.strip())

        worker = WorkerConfig(
            memory_bytes=self.sandbox_memory_mb << 20,
            required=names(self.sandbox_required_layers),
            skip=names(self.sandbox_skip_layers),
        )
        return PoolConfig(workers=self.sandbox_workers, timeout_seconds=self.sandbox_timeout_seconds, worker=worker)

    @property
    def judge_provider_and_model(self) -> tuple[str, str] | None:
        """`judge_model` as (provider, model); a name without a provider is an OpenAI model."""
        if not self.judge_model:
            return None
        provider, _, model = self.judge_model.partition("/")
        return (provider, model) if model else ("openai", self.judge_model)

    @property
    def uses_default_secret(self) -> bool:
        return self.secret_key == _DEV_SECRET

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings, built once from the environment."""
    return Settings()


def uses_job_queue(settings: Settings) -> bool:
    """Whether this configuration dispatches through the job queue: on PostgreSQL, unless `ASSAY_DISPATCH` asks
    for in-process; on SQLite only when asked for."""
    if settings.dispatch == "in_process":
        return False
    return settings.dispatch == "queue" or settings.database_url.split(":", 1)[0].startswith("postgres")
