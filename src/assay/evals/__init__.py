"""Evals as code: define cases, an agent and evaluators in Python, run them with Assay's run engine.

```python
from assay.evals import Case, Dataset, check, evaluate_sync, python

def polite(outcome) -> bool:
    return "please" in outcome.output.lower()

report = evaluate_sync(
    Dataset.of([Case("Where is order A1001?", expected_tool_calls=[{"name": "lookup_order"}])]),
    agent=my_agent,                      # a callable, "module:function" or an instance config
    evaluators=["tool_call_match", check("contains", value="A1001"), python(polite)],
)
report.print()
```

See docs/evals-as-code.md. The pytest plugin is `assay.pytest`.
"""

from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.evals._agent import AgentLike
from assay.evals._dataset import Case, Dataset
from assay.evals._evaluators import Evaluator, EvaluatorLike, check, hog, judge, python
from assay.evals._report import CaseReport, EvalReport, Summary
from assay.evals._run import Store, evaluate, evaluate_sync
from assay.evals._suite import EvalSuite
from assay.evaluators.python_eval import PythonCase
from assay.targets.python_target import AgentOutput

__all__ = [
    "AgentLike",
    "AgentOutput",
    "Case",
    "CaseOutcome",
    "CaseReport",
    "Dataset",
    "EvalReport",
    "EvalSuite",
    "Evaluator",
    "EvaluatorLike",
    "PythonCase",
    "Store",
    "Summary",
    "ToolCall",
    "Verdict",
    "check",
    "evaluate",
    "evaluate_sync",
    "hog",
    "judge",
    "python",
]
