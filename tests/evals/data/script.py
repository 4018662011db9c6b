"""A plain script: two stored runs of one suite (a changed agent), their ids printed for `assay compare`."""

import sys

from eval_checks import agent, is_echo

from assay.evals import Case, check, evaluate_sync, python

cases = [Case(f"hello {n}", name=f"c{n}") for n in range(6)] + [Case("weather?", name="weather")]
evaluators = [python(is_echo), check("contains", value="hello")]
base = evaluate_sync(cases, agent=agent, evaluators=evaluators, name="script suite", store="local")
worse = evaluate_sync(
    cases,
    agent=lambda text: "nope" if text.endswith(("3", "4")) else agent(text),
    evaluators=evaluators,
    name="script suite",
    store="local",
)
base.print()
print("RUNS", base.run_id, worse.run_id, base.summary.passed, worse.summary.passed, base.stored_in)
sys.exit(0 if base.status == worse.status == "completed" else 1)
