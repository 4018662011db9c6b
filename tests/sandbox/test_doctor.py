"""`assay doctor`: every layer with its status; exit status 1 naming the layer when a required one is missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.sandbox.lockdown import LAYERS
from assay.settings import get_settings


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _doctor(**env: str | None) -> tuple[int, str]:
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", **env})
    result = runner.invoke(app, ["doctor"])
    return result.exit_code, result.output


def test_doctor_reports_every_layer(fresh_settings: None) -> None:
    code, output = _doctor(ASSAY_SANDBOX_SKIP_LAYERS=None)
    assert code == 0, output
    for name in LAYERS:
        assert name in output
    assert "seccomp" in output and "syscalls allowed" in output
    assert "Python evaluators can run" in output


def test_doctor_fails_naming_the_missing_layer(fresh_settings: None) -> None:
    code, output = _doctor(ASSAY_SANDBOX_SKIP_LAYERS="seccomp")
    assert code == 1, output
    assert "disabled by configuration" in output
    assert "required layer unavailable: seccomp" in output
