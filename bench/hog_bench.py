"""Benchmark Hog evaluations: compile time and per-event execution time (median of several runs).

Usage: ``.venv/bin/python bench/hog_bench.py [--events N] [--runs R]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from assay.evaluators.hog_eval import build_globals, run_hog_eval
from assay.hog.compiler import compile_program
from assay.hog.vm import execute_bytecode

TYPICAL = """
let messages := jsonParse(output)
let last := null
for (let m in messages) {
  if (m.role = 'assistant') { last := m.content }
}
if (empty(last)) {
  print('no assistant message')
  return false
}
let text := lower(last)
let banned := ['as an ai', 'i cannot', 'lorem ipsum']
let hits := arrayFilter(b -> text like concat('%', b, '%'), banned)
print(f'{length(text)} chars, {length(hits)} banned phrases')
return length(hits) = 0 and length(text) > 10 and not (text =~ '\\\\b(todo|fixme)\\\\b')
"""

LOOPY = """
let total := 0
for (let i := 0; i < 10000; i := i + 1) { total := total + i % 7 }
return total > 0
"""


def _event(i: int) -> dict[str, Any]:
    return {
        "uuid": f"uuid-{i}",
        "event": "$ai_generation",
        "distinct_id": "user",
        "properties": {
            "$ai_input": [{"role": "user", "content": f"Question {i} about hedgehogs?"}],
            "$ai_output_choices": [
                {"role": "system", "content": "You are helpful."},
                {"role": "assistant", "content": f"Answer {i}: hedgehogs eat insects and sleep during the day."},
            ],
            "$ai_model": "gpt-4o-mini",
        },
    }


def _median_seconds(fn: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    """Print a table of compile and execution times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    events = [_event(i) for i in range(args.events)]
    rows: list[tuple[str, str]] = []
    for name, source in (("typical evaluation", TYPICAL), ("10k-iteration loop", LOOPY)):
        compile_s = _median_seconds(lambda source=source: compile_program(source), args.runs)
        bytecode = compile_program(source)
        globals_list = [build_globals(e) for e in events]
        exec_s = _median_seconds(lambda b=bytecode, gl=globals_list: [execute_bytecode(b, g) for g in gl], args.runs)
        full_s = _median_seconds(lambda b=bytecode: [run_hog_eval(b, e, False) for e in events], args.runs)
        ops = execute_bytecode(bytecode, globals_list[0]).ops
        per_event_us = exec_s / len(events) * 1e6
        rows.append((f"{name}: compile", f"{compile_s * 1e3:8.3f} ms"))
        rows.append(
            (
                f"{name}: execute / event",
                f"{per_event_us:8.1f} us  ({ops} ops, {ops / (exec_s / len(events)) / 1e6:.2f} Mops/s)",
            )
        )
        rows.append((f"{name}: run_hog_eval / event", f"{full_s / len(events) * 1e6:8.1f} us"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  median of {args.runs} runs, {args.events} events")
    print("-" * (width + 40))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
