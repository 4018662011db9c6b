"""Suite files for `assay run`: YAML parsed and validated with errors that name the file and line.

```yaml
name: order support                 # required
instance:                           # openai_chat | http | python (python: trusted local code)
  kind: python
  callable: my_agent:respond        # resolved with the YAML's folder on sys.path
  timeout_s: 10
concurrency: 4                      # cases in flight (default 8)
repetitions: 1                      # runs of every case (`--repeat N` overrides)
pass_threshold: 70                  # a case passes when its score (0-100) reaches this
evaluators:                         # built-in checks, llm_judge, hog, python; each with optional weight/required
  - {type: contains, value: refund, weight: 2, required: true}
  - {type: tool_call_match, arguments: subset}
  - type: hog
    source: "return length(output) < 500"
  - type: python                    # trusted local code: returns bool, a number, (score, reason), dict
    function: my_checks:polite      # or a Verdict; scale: unit (0-1, default) or percent (0-100)
    timeout_s: 10
  - type: llm_judge                 # model: provider/model, or {provider, model, base_url}
    prompt: "Is the reply polite? {{output}}"
    if_env: ASSAY_JUDGE_MODEL       # (any item) only used when this environment variable is set
    cases_tagged: [polite]          # (any item) only scores cases with one of these tags
cases:                              # and/or cases_from: cases.csv | cases.jsonl (relative to the YAML)
                                    # and/or dataset: NAME_OR_ID (items of an LLM-analytics dataset)
dataset_revision: 3                 # with dataset: read it at this revision (default: its current one)
  - input: Where is order A1001?
    name: lookup                    # optional; shown in reports
    expected_behavior: Gives the order status.
    expected_tool_calls: [{name: lookup_order, arguments: {order_id: A1001}}]
    tags: [orders]
  - input: Hi, I need help with an order    # a conversation: more user turns, each reply captured
    user_turns: [It is A1001, Can I return it?]
    messages: [{role: assistant, content: Welcome back!}]   # turns before `input` (OpenAI format)
  - input: Where is my parcel?
    simulated_user: {goal: learn where order A1002 is, persona: a hurried customer, max_turns: 4}
  - input: Where is order B7?
    tool_mocks: [{tool: lookup_order, arguments: {order_id: B7}, result: {status: shipped}}]
    max_steps: 4                    # model calls per user turn in the tool loop
```

See docs/conversations.md for conversation cases, simulated users, tool mocks and their evaluators.

A string `${NAME}` anywhere under `instance` is replaced by the environment variable NAME (for API keys).
CSV columns: `input`, `name`, `expected_behavior`, `expected_tool_calls` (JSON), `tags` (comma-separated
or a JSON list). JSONL: one case object per line with the same fields as inline cases.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assay.domain.conversations import (
    CONVERSATION_FIELDS,
    ChatMessage,
    ConversationSpec,
    SimulatedUser,
    ToolMock,
)
from assay.domain.runs import DEFAULT_PASS_THRESHOLD
from assay.evaluators.recipe_items import InlineError, validate_inline
from assay.targets.spec import parse_spec

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
Loc = tuple[str | int, ...]


class SuiteFileError(ValueError):
    """An invalid suite file: every problem as `file:line: where: what`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class CaseModel(BaseModel):
    """One test case."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1)
    name: str | None = None
    expected_behavior: str | None = None
    expected_tool_calls: list[dict[str, Any]] | None = None
    tags: list[str] = Field(default_factory=list)
    messages: list[ChatMessage] | None = None
    user_turns: list[str] | None = None
    simulated_user: SimulatedUser | None = None
    tool_mocks: list[ToolMock] | None = None
    max_steps: int | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="after")
    def _conversation(self) -> CaseModel:
        ConversationSpec.model_validate(self.model_dump(include=set(CONVERSATION_FIELDS), exclude_none=True))
        return self

    def to_case(self) -> dict[str, Any]:
        """The case as a plain dict (conversation fields only when set)."""
        data = self.model_dump(mode="json", exclude=set(CONVERSATION_FIELDS))
        data.update(self.model_dump(mode="json", include=set(CONVERSATION_FIELDS), exclude_none=True))
        return data

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "input_message" in data and "input" not in data:
            data = {**data, "input": data["input_message"]}
            del data["input_message"]
        return data

    @field_validator("expected_tool_calls")
    @classmethod
    def _calls(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for call in value or []:
            if not isinstance(call.get("name"), str) or not call["name"]:
                raise ValueError("every expected tool call needs a 'name'")
            if not isinstance(call.get("arguments", {}), dict):
                raise ValueError("tool call 'arguments' must be a mapping")
        return value


class SuiteModel(BaseModel):
    """The top level of a suite file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    instance: dict[str, Any]
    evaluators: list[dict[str, Any]] = Field(min_length=1)
    pass_threshold: float = Field(default=DEFAULT_PASS_THRESHOLD, ge=0, le=100)
    concurrency: int = Field(default=8, ge=1, le=1000)
    repetitions: int = Field(default=1, ge=1, le=100)
    cases: list[CaseModel] = Field(default_factory=list)
    cases_from: str | None = None
    dataset: str | None = Field(default=None, min_length=1)
    """An LLM-analytics dataset (name or id) whose items become cases, read when the suite runs."""
    dataset_revision: int | None = Field(default=None, ge=1)
    """The dataset revision to read (default: the current one); the run records the revision it read."""

    @model_validator(mode="after")
    def _revision_needs_dataset(self) -> SuiteModel:
        if self.dataset_revision is not None and not self.dataset:
            raise ValueError("dataset_revision needs dataset")
        return self


@dataclass(slots=True)
class SuiteFile:
    """A validated suite: the instance config, recipe items (inline, validated) and cases."""

    path: Path
    name: str
    description: str | None
    instance: dict[str, Any]
    items: list[dict[str, Any]]
    pass_threshold: float
    concurrency: int
    repetitions: int
    cases: list[dict[str, Any]] = field(default_factory=list)
    dataset: str | None = None
    dataset_revision: int | None = None
    dataset_pin: dict[str, Any] | None = None
    """Set when the dataset's cases are read: `{id, name, revision, revision_id}`."""

    @property
    def instance_kind(self) -> str:
        return str(self.instance.get("kind"))

    @property
    def has_python_evaluators(self) -> bool:
        """Whether an evaluator runs local Python code (which a server refuses)."""
        return any(i["evaluator"].get("type") == "python" and "function" in i["evaluator"] for i in self.items)


def _lines(node: yaml.Node, path: Loc, out: dict[Loc, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, str(key.value))] = key.start_mark.line + 1
            _lines(value, (*path, str(key.value)), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _line_of(lines: dict[Loc, int], loc: Loc) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _where(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value


def _judge_model(value: Any) -> Any:
    if isinstance(value, str):
        provider, _, model = value.partition("/")
        return {"provider": provider, "model": model} if model else {"provider": "openai", "model": value}
    return value


def _item(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, float, bool, list[str] | None]:
    """(inline evaluator config or None when skipped by `if_env`, weight, required, cases_tagged)."""
    config = dict(raw)
    weight = config.pop("weight", 1.0)
    required = config.pop("required", False)
    if_env = config.pop("if_env", None)
    tagged = config.pop("cases_tagged", None)
    if isinstance(tagged, str):
        tagged = [tagged]
    if tagged is not None and (
        not isinstance(tagged, list) or not tagged or not all(isinstance(t, str) and t.strip() for t in tagged)
    ):
        msg = "cases_tagged must be a tag or a non-empty list of tags"
        raise InlineError([{"loc": ["cases_tagged"], "msg": msg, "type": "value_error"}])
    if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
        raise InlineError([{"loc": ["weight"], "msg": "weight must be a number above 0", "type": "value_error"}])
    if not isinstance(required, bool):
        raise InlineError([{"loc": ["required"], "msg": "required must be true or false", "type": "value_error"}])
    if if_env is not None and not os.environ.get(str(if_env)):
        return None, float(weight), required, tagged
    if config.get("type") == "llm_judge" and "model" in config:
        config["model"] = _judge_model(config["model"])
    return validate_inline(config), float(weight), required, tagged


def recipe_item(raw: dict[str, Any]) -> dict[str, Any] | None:
    """A suite-file evaluator entry (`weight`, `required`, `if_env`, `cases_tagged` beside the config) as a
    validated recipe item; None when `if_env` skips it. Raises `InlineError` with `loc` inside the entry."""
    config, weight, required, tagged = _item(raw)
    if config is None:
        return None
    item: dict[str, Any] = {"evaluator": config, "weight": weight, "required": required}
    if tagged:
        item["cases_tagged"] = tagged
    return item


def _cases_from(path: Path, name: str) -> list[tuple[dict[str, Any], str]]:
    """Raw case dicts from a CSV or JSONL file, each with its `file:line` label."""
    target = (path.parent / name).resolve()
    if not target.is_file():
        raise SuiteFileError([f"{path}: cases_from: no such file {target}"])
    rows: list[tuple[dict[str, Any], str]] = []
    if target.suffix.lower() == ".jsonl":
        for number, line in enumerate(target.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SuiteFileError([f"{target}:{number}: invalid JSON: {exc.msg}"]) from None
            rows.append((data, f"{target}:{number}"))
        return rows
    if target.suffix.lower() != ".csv":
        raise SuiteFileError([f"{path}: cases_from: {name} must end in .csv or .jsonl"])
    with target.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            label = f"{target}:{reader.line_num}"
            data: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
            if None in row:
                raise SuiteFileError([f"{label}: more values than columns"])
            try:
                if "expected_tool_calls" in data:
                    data["expected_tool_calls"] = json.loads(data["expected_tool_calls"])
                if "tags" in data:
                    tags = data["tags"].strip()
                    data["tags"] = json.loads(tags) if tags.startswith("[") else [t.strip() for t in tags.split(",")]
            except json.JSONDecodeError as exc:
                raise SuiteFileError([f"{label}: invalid JSON in a column: {exc.msg}"]) from None
            rows.append((data, label))
    return rows


def _pydantic_problems(exc: ValidationError, path: Path, lines: dict[Loc, int], prefix: Loc) -> list[str]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = (*prefix, *err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{path}:{_line_of(lines, loc)}: {_where(loc)}: {msg}")
    return out


def load_suite(path: Path | str) -> SuiteFile:
    """Read and validate a suite file; raise `SuiteFileError` naming file, line and problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SuiteFileError([f"{path}{line}: invalid YAML: {problem}"]) from None
    if not isinstance(data, dict) or node is None:
        raise SuiteFileError([f"{path}:1: the suite file must be a mapping with name, instance, evaluators, cases"])
    lines: dict[Loc, int] = {}
    _lines(node, (), lines)
    try:
        model = SuiteModel.model_validate(data)
    except ValidationError as exc:
        raise SuiteFileError(_pydantic_problems(exc, path, lines, ())) from None

    problems: list[str] = []
    instance = _expand_env(model.instance)
    try:
        parse_spec(instance)
    except ValidationError as exc:
        kind = instance.get("kind")
        for err in exc.errors(include_url=False, include_input=False):
            loc = ("instance", *(err["loc"][1:] if err["loc"] and err["loc"][0] == kind else err["loc"]))
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{path}:{_line_of(lines, loc)}: {_where(loc)}: {msg}")

    items: list[dict[str, Any]] = []
    for index, raw in enumerate(model.evaluators):
        try:
            item = recipe_item(raw)
        except InlineError as exc:
            for err in exc.errors:
                loc = ("evaluators", index, *err["loc"])
                problems.append(f"{path}:{_line_of(lines, loc)}: {_where(loc)}: {err['msg']}")
            continue
        if item is not None:
            items.append(item)
    if not items and not problems:
        problems.append(f"{path}:{_line_of(lines, ('evaluators',))}: evaluators: every evaluator was skipped by if_env")

    cases = [c.to_case() for c in model.cases]
    if model.cases_from:
        try:
            for raw_case, label in _cases_from(path, model.cases_from):
                try:
                    cases.append(CaseModel.model_validate(raw_case).to_case())
                except ValidationError as exc:
                    for err in exc.errors(include_url=False, include_input=False):
                        where = _where(tuple(err["loc"]))
                        problems.append(f"{label}: {where}: {str(err['msg']).removeprefix('Value error, ')}")
        except SuiteFileError as exc:
            problems.extend(exc.problems)
    if not cases and not model.dataset and not problems:
        problems.append(f"{path}:1: no cases: give `cases`, `cases_from` or `dataset`")
    if problems:
        raise SuiteFileError(problems)
    return SuiteFile(
        path=path,
        name=model.name,
        description=model.description,
        instance=instance,
        items=items,
        pass_threshold=model.pass_threshold,
        concurrency=model.concurrency,
        repetitions=model.repetitions,
        cases=cases,
        dataset=model.dataset,
        dataset_revision=model.dataset_revision,
    )


def case_label(case: dict[str, Any], index: int) -> str:
    """A short name for a case: its `name`, else its number and the start of its input."""
    if case.get("name"):
        return str(case["name"])
    text = " ".join(str(case.get("input", "")).split())
    return f"#{index + 1} {text[:48]}{'…' if len(text) > 48 else ''}"
