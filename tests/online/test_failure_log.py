"""`FailureLog`: the first failure per (evaluation, cause) in full, then counts at most once per interval."""

from __future__ import annotations

import logging
import uuid

import pytest

from assay.engine.online.failures import FailureLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_in_full_then_periodic_counts_then_forgotten(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.failure_log")
    clock = Clock()
    log = FailureLog(logger, interval=60, clock=clock)
    first, second = uuid.uuid4(), uuid.uuid4()
    with caplog.at_level(logging.WARNING, logger=logger.name):
        for i in range(50):
            log.record(evaluation_id=first, name="a", cause="timeout", message=f"timed out #{i}")
        log.record(evaluation_id=first, name="a", cause="hog_error", message="Hog evaluation error: x")
        log.record(evaluation_id=second, name="b", cause="timeout", message="timed out")
        log.flush()  # the interval has not passed: nothing more
        assert [r.getMessage().split(".")[0] for r in caplog.records] == [
            f"Online evaluation 'a' ({first}): timeout: timed out #0",
            f"Online evaluation 'a' ({first}): hog_error: Hog evaluation error: x",
            f"Online evaluation 'b' ({second}): timeout: timed out",
        ]
        caplog.clear()
        clock.now += 61
        log.flush()
        [summary] = [r.getMessage() for r in caplog.records]
        assert (
            summary
            == f"Online evaluation 'a' ({first}): 49 more timeout failures in the last 61 s; the latest: timed out #49"
        )
        caplog.clear()
        clock.now += 61
        log.flush()  # nothing new: the pairs are forgotten silently
        assert caplog.records == []
        log.record(evaluation_id=first, name="a", cause="timeout", message="again")
        assert [r.getMessage().split(".")[0] for r in caplog.records] == [
            f"Online evaluation 'a' ({first}): timeout: again"
        ]


def test_force_flush_reports_every_pending_count(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.failure_log")
    log = FailureLog(logger, interval=300, clock=Clock())
    evaluation = uuid.uuid4()
    with caplog.at_level(logging.WARNING, logger=logger.name):
        for _ in range(3):
            log.record(evaluation_id=evaluation, name="a", cause="server_error", message="server_error: boom")
        log.flush(force=True)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[0].startswith(f"Online evaluation 'a' ({evaluation}): server_error: boom")
    assert "2 more server_error failures" in lines[1]
