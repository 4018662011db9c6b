"""Resource limits: wall time, memory, call depth, sizes; also when the VM runs in a worker thread."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from assay.hog.compiler import compile_program
from assay.hog.errors import HogMemoryLimitError, HogRuntimeError, HogTimeoutError
from assay.hog.vm import execute_bytecode


def run(source: str, **limits: Any) -> Any:
    return execute_bytecode(compile_program(source), **limits)


def test_infinite_loop_times_out_within_the_limit() -> None:
    started = time.monotonic()
    with pytest.raises(HogTimeoutError, match="timed out"):
        run("while (true) {}", timeout=0.3)
    assert time.monotonic() - started < 0.6


def test_default_timeout_is_five_seconds() -> None:
    started = time.monotonic()
    with pytest.raises(HogTimeoutError, match="after 5 seconds"):
        run("let i := 0\nwhile (true) { i := i + 1 }")
    assert 4.9 < time.monotonic() - started < 6.0


def test_infinite_recursion_hits_the_call_depth_limit() -> None:
    with pytest.raises(HogRuntimeError, match="Call stack exceeded maximum length of 1000"):
        run("fn f(n) { return f(n + 1) }\nreturn f(0)")


def test_deep_but_bounded_recursion_works_without_python_recursion() -> None:
    result = run("fn f(n) { if (n = 0) { return 0 } return 1 + f(n - 1) }\nreturn f(5000)", max_call_depth=10_000)
    assert result.result == 5000


def test_string_doubling_hits_the_memory_limit() -> None:
    with pytest.raises(HogMemoryLimitError, match="Memory limit exceeded"):
        run("let s := 'x'\nwhile (true) { s := concat(s, s) }", timeout=10)


def test_array_growth_hits_the_memory_limit() -> None:
    source = """
    let s := 'x'
    for (let i := 0; i < 20; i := i + 1) { s := concat(s, s) }
    let chunks := []
    while (true) { chunks := arrayPushBack(chunks, splitByString('', s)) }
    """
    with pytest.raises(HogMemoryLimitError, match="Memory limit exceeded"):
        run(source, timeout=10)


def test_dictionary_growth_hits_the_memory_limit() -> None:
    source = "let d := {}\nlet i := 0\nwhile (true) { d[i] := concat('value-', i); i := i + 1 }"
    with pytest.raises(HogMemoryLimitError):
        run(source, max_memory_bytes=2 * 1024 * 1024, timeout=10)


def test_huge_range_is_refused_before_allocation() -> None:
    started = time.monotonic()
    with pytest.raises(HogMemoryLimitError):
        run("return range(1000000000)")
    assert time.monotonic() - started < 0.5


def test_string_length_limit() -> None:
    with pytest.raises(HogMemoryLimitError):
        run("return replaceAll('aaaaaaaaaa', 'a', 'bbbbbbbbbbbbbbbbbbbb')", max_string_length=100)


def test_array_length_limit() -> None:
    with pytest.raises(HogMemoryLimitError):
        run("return range(101)", max_array_length=100)


def test_printing_is_bounded() -> None:
    with pytest.raises(HogMemoryLimitError):
        run("while (true) { print('spam spam spam') }", max_stdout_chars=10_000)


def test_printing_an_exponentially_shared_structure_stops_at_the_limit() -> None:
    source = "let a := []\nfor (let i := 0; i < 60; i := i + 1) { a := [a, a] }\nprint(a)"
    started = time.monotonic()
    with pytest.raises((HogMemoryLimitError, HogTimeoutError)):
        run(source, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_deeply_nested_values_fail_cleanly() -> None:
    with pytest.raises(HogRuntimeError, match="nested too deeply"):
        run("let a := []\nfor (let i := 0; i < 5000; i := i + 1) { a := [a] }\nreturn jsonStringify(a)")


def test_catastrophic_regex_runs_in_linear_time() -> None:
    grow = "let s := 'a'\nfor (let i := 0; i < 17; i := i + 1) { s := concat(s, s) }\n"  # 131,072 characters
    started = time.monotonic()
    assert run(grow + "return concat(s, '!') =~ '(a+)+$'").result is False
    assert run(grow + "return concat(s, '!') =~ '(a|aa)+!$'").result is True
    assert run(grow + "return concat(s, '!') like '%a%a%a%a%a%a%a%a%a%b%'").result is False
    assert time.monotonic() - started < 0.5


def test_a_regex_that_could_outlive_the_time_limit_is_refused_before_it_starts() -> None:
    # DFA-hostile: every byte builds a new state, so the cost is bytes × program size.
    source = "let s := 'ab'\nfor (let i := 0; i < 17; i := i + 1) { s := concat(s, s) }\nreturn s =~ '[ab]*a[ab]{999}c'"
    started = time.monotonic()
    with pytest.raises(HogRuntimeError, match="Regex too expensive"):
        run(source, timeout=1.0)
    assert time.monotonic() - started < 0.5


def test_big_number_growth_does_not_blow_up() -> None:
    with pytest.raises(HogTimeoutError):
        run("let x := 2\nwhile (true) { x := x * x }", timeout=0.3)


async def test_limits_hold_in_a_worker_thread_while_the_event_loop_keeps_running() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    bytecode = compile_program("while (true) {}")
    started = time.monotonic()
    with pytest.raises(HogTimeoutError):
        await asyncio.to_thread(execute_bytecode, bytecode, None, timeout=0.5)
    elapsed = time.monotonic() - started
    with pytest.raises(HogMemoryLimitError):
        await asyncio.to_thread(
            execute_bytecode, compile_program("let s := 'x'\nwhile (true) { s := concat(s, s) }"), None
        )
    task.cancel()
    # Bounds with room for a loaded machine: a blocked loop would tick once, an unbounded program never ends.
    assert elapsed < 3.0
    assert ticks >= 5  # the loop was served while Hog ran
