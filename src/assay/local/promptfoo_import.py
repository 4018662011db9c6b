"""`assay import promptfoo`: a promptfoo config as Assay suite files, with a report of what could not be carried over.

- Each prompt × provider pair becomes one instance, so one suite file (several pairs: several files).
  OpenAI (`openai:MODEL`, `openai:chat:MODEL`) and Ollama providers become `openai_chat` instances (the
  provider's `apiBaseUrl`, sampling parameters, `apiKeyEnvar`); HTTP providers become `http` instances (`{{prompt}}`
  in the body becomes Assay's `{{input_message}}`, `transformResponse: json.a.b` the reply's JSON path).
- Each test (its list-valued vars expanded, as promptfoo does; `defaultTest` vars underneath) becomes a case whose
  input is the prompt rendered with the vars (`promptfoo_templates.py`); a chat prompt's system message becomes the
  instance's system prompt when it is the same for every test.
- Assertions map through `promptfoo_assertions.py`: `defaultTest`'s score every case, a test's own only the cases
  of that test (`cases_tagged` with the case's tag).

Everything left out is listed in `ImportResult.unmapped` (where, what, why) and printed by the command.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assay.local.promptfoo_assertions import Mapped, judge_model_for, map_assertion, parse_inline_assertion
from assay.local.promptfoo_templates import render, unsupported

OPENAI_BASE_URL = "https://api.openai.com/v1"
OLLAMA_BASE_URL = "http://localhost:11434/v1"
PARAMETERS = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
}
PROVIDER_KEYS_READ = frozenset({"apiBaseUrl", "apiHost", "apiKeyEnvar", "apiKey", *PARAMETERS})
TOP_LEVEL_READ = frozenset({"description", "prompts", "providers", "tests", "defaultTest", "evaluateOptions"})
TEST_KEYS_READ = frozenset({"description", "vars", "assert", "providers", "prompts"})
TAG_PREFIX = "promptfoo-test-"


class PromptfooImportError(ValueError):
    """The config cannot be read, or nothing of it maps to a runnable suite."""


@dataclass(frozen=True, slots=True)
class Unmapped:
    """One thing of the config the suite files leave out."""

    where: str
    what: str
    why: str


@dataclass(frozen=True, slots=True)
class Approximation:
    """One thing mapped with a difference worth knowing."""

    where: str
    what: str
    note: str


@dataclass(slots=True)
class ImportResult:
    """The suites (a label and the suite-file mapping of each) and what was not carried over."""

    suites: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    approximations: list[Approximation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Prompt:
    label: str
    system: str | None
    user: str


@dataclass(frozen=True, slots=True)
class _Provider:
    label: str
    id: str
    instance: dict[str, Any]


@dataclass(slots=True)
class _Test:
    tag: str
    """The test's own tag; `group` is shared by every case one test expands into (list-valued vars)."""
    group: str
    name: str
    vars: dict[str, Any]
    assertions: list[tuple[str, dict[str, Any]]]
    providers: list[str] | None = None
    prompts: list[str] | None = None


def _read_structured(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    if path.suffix.lower() == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return yaml.safe_load(text)


def _file(base: Path, ref: str) -> Path:
    target = (base / ref.removeprefix("file://")).resolve()
    if not target.is_file():
        raise PromptfooImportError(f"{ref}: no such file {target}")
    return target


class _Importer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent
        self.result = ImportResult()

    def skip(self, where: str, what: str, why: str) -> None:
        self.result.unmapped.append(Unmapped(where, what, why))

    # --- prompts ------------------------------------------------------------------------------------------------

    def prompts(self, raw: Any) -> list[_Prompt]:
        entries: list[tuple[Any, str | None]]
        if isinstance(raw, str):
            entries = [(raw, None)]
        elif isinstance(raw, dict):  # {file or text: label}
            entries = [(k, v if isinstance(v, str) else None) for k, v in raw.items()]
        elif isinstance(raw, list):
            entries = []
            for item in raw:
                if isinstance(item, dict):
                    entries.append((item.get("raw", item.get("id")), item.get("label")))
                else:
                    entries.append((item, None))
        else:
            raise PromptfooImportError(f"{self.path}: prompts must be a string, a list or a mapping")
        out: list[_Prompt] = []
        for index, (value, label) in enumerate(entries, 1):
            where = f"prompts[{index}]"
            if not isinstance(value, str) or not value.strip():
                self.skip(where, repr(value)[:60], "a prompt must be text or a file:// reference")
                continue
            texts = [value]
            label = label or (Path(value.removeprefix("file://")).name if value.startswith("file://") else None)
            if value.startswith("file://"):
                target = _file(self.base, value)
                if target.suffix.lower() in (".js", ".ts", ".mjs", ".cjs", ".py"):
                    self.skip(where, value, "prompt functions run user code that Assay does not execute")
                    continue
                if target.suffix.lower() in (".json", ".yaml", ".yml"):
                    texts = [json.dumps(_read_structured(target))]
                else:
                    texts = [t.strip() for t in target.read_text(encoding="utf-8").split("\n---\n") if t.strip()]
            for number, text in enumerate(texts, 1):
                name = (f"{label} {number}" if label and len(texts) > 1 else label) or " ".join(text.split())[:40]
                prompt = self.prompt(f"{where}" + (f".{number}" if len(texts) > 1 else ""), text, str(name))
                if prompt is not None:
                    out.append(prompt)
        return out

    def prompt(self, where: str, text: str, label: str) -> _Prompt | None:
        messages: Any = None
        if text.lstrip().startswith("["):
            try:
                messages = json.loads(text)
            except json.JSONDecodeError:
                messages = None
        if messages is None:
            problem = unsupported(text)
            if problem is not None:
                self.skip(where, label, f"{problem}: Assay renders plain {{{{variables}}}} only")
                return None
            return _Prompt(label, None, text)
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            self.skip(where, label, "a chat prompt must be a list of {role, content} messages")
            return None
        system = [str(m.get("content", "")) for m in messages if m.get("role") == "system"]
        users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
        others = [m for m in messages if m.get("role") not in ("system", "user")]
        if not users:
            self.skip(where, label, "a chat prompt without a user message")
            return None
        if others or len(users) > 1:
            self.skip(
                where,
                f"{label}: earlier turns",
                "a case sends one user message: only the last user message (and the system message) are used",
            )
        for part in (*system, users[-1]):
            problem = unsupported(part)
            if problem is not None:
                self.skip(where, label, f"{problem}: Assay renders plain {{{{variables}}}} only")
                return None
        return _Prompt(label, "\n\n".join(system) if system else None, users[-1])

    # --- providers ----------------------------------------------------------------------------------------------

    def providers(self, raw: Any) -> list[_Provider]:
        items = raw if isinstance(raw, list) else [raw]
        out: list[_Provider] = []
        for index, item in enumerate(items, 1):
            where = f"providers[{index}]"
            config: dict[str, Any] = {}
            label = None
            if isinstance(item, str):
                pid = item
            elif isinstance(item, dict) and "id" in item:
                pid, label, config = str(item["id"]), item.get("label"), dict(item.get("config") or {})
            elif isinstance(item, dict) and len(item) == 1:  # {provider id: {config…}}
                [(pid, options)] = item.items()
                options = options if isinstance(options, dict) else {}
                label, config = options.get("label"), dict(options.get("config") or {})
            else:
                self.skip(where, repr(item)[:60], "a provider must be an id or {id, label, config}")
                continue
            provider = self.provider(where, pid, str(label or pid), config)
            if provider is not None:
                out.append(provider)
        return out

    def provider(self, where: str, pid: str, label: str, config: dict[str, Any]) -> _Provider | None:
        parts = pid.split(":")
        if pid in ("http", "https") or pid.startswith(("http://", "https://")):
            return self.http_provider(where, pid, label, config)
        if parts[0] in ("openai", "ollama") and len(parts) >= 2:
            if parts[0] == "openai" and parts[1] not in ("chat",) and len(parts) > 2:
                self.skip(where, pid, f"the OpenAI {parts[1]} API: Assay instances call chat completions")
                return None
            model = parts[-1] if parts[-1] not in ("chat", "") else ""
            if not model:
                self.skip(where, pid, "no model named")
                return None
            default = OPENAI_BASE_URL if parts[0] == "openai" else OLLAMA_BASE_URL
            base_url = str(config.get("apiBaseUrl") or config.get("apiHost") or default)
            if not base_url.startswith(("http://", "https://")):
                base_url = "https://" + base_url
            instance: dict[str, Any] = {"kind": "openai_chat", "base_url": base_url, "model": model}
            if config.get("apiKeyEnvar"):
                instance["api_key"] = "${" + str(config["apiKeyEnvar"]) + "}"
            elif config.get("apiKey"):
                instance["api_key"] = "${OPENAI_API_KEY}"
                self.skip(where, f"{pid}: apiKey", "a key written in the config is not copied: set OPENAI_API_KEY")
            elif parts[0] == "openai":
                instance["api_key"] = "${OPENAI_API_KEY}"
            parameters = {PARAMETERS[k]: v for k, v in config.items() if k in PARAMETERS}
            if parameters:
                instance["parameters"] = parameters
            for key in sorted(set(config) - PROVIDER_KEYS_READ):
                self.skip(where, f"{pid}: config.{key}", "provider option without an Assay instance setting")
            return _Provider(label, pid, instance)
        self.skip(where, pid, "Assay instances call OpenAI-compatible chat endpoints or HTTP endpoints")
        return None

    def http_provider(self, where: str, pid: str, label: str, config: dict[str, Any]) -> _Provider | None:
        url = pid if pid.startswith(("http://", "https://")) else config.get("url")
        if not isinstance(url, str) or not url:
            self.skip(where, pid, "an HTTP provider without a url")
            return None
        body = config.get("body", {"prompt": "{{prompt}}"})
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except json.JSONDecodeError:
                self.skip(where, f"{pid}: body", "a body that is not JSON: Assay sends a JSON body template")
                return None
        instance: dict[str, Any] = {
            "kind": "http",
            "url": url,
            "method": str(config.get("method", "POST")).upper(),
            "headers": {str(k): str(v) for k, v in (config.get("headers") or {}).items()},
            "body_template": _body_template(body),
        }
        transform = config.get("transformResponse")
        if transform is not None:
            path = _json_path(transform)
            if path is None:
                self.skip(where, f"{pid}: transformResponse", "only a json.field.path expression maps to a JSON path")
            else:
                instance["response"] = {"text": path}
        for key in sorted(set(config) - {"url", "method", "headers", "body", "transformResponse"}):
            self.skip(where, f"{pid}: config.{key}", "HTTP provider option without an Assay instance setting")
        return _Provider(label, pid, instance)

    # --- tests --------------------------------------------------------------------------------------------------

    def load_tests(self, raw: Any) -> list[tuple[str, dict[str, Any]]]:
        if raw is None:
            return []
        items = raw if isinstance(raw, list) else [raw]
        out: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(items, 1):
            if isinstance(item, dict):
                out.append((f"tests[{index}]", item))
            elif isinstance(item, str) and not item.startswith(("huggingface://", "http://", "https://")):
                target = _file(self.base, item)
                if target.suffix.lower() == ".csv":
                    out.extend(self.csv_tests(target))
                elif target.suffix.lower() in (".yaml", ".yml", ".json", ".jsonl"):
                    loaded = _read_structured(target)
                    for number, test in enumerate(loaded if isinstance(loaded, list) else [loaded], 1):
                        out.append((f"{target.name}[{number}]", test if isinstance(test, dict) else {}))
                else:
                    self.skip(f"tests[{index}]", item, "generated tests run user code that Assay does not execute")
            else:
                self.skip(f"tests[{index}]", str(item)[:60], "tests from a remote source are not imported")
        return out

    def csv_tests(self, target: Path) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        with target.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                where = f"{target.name}:{reader.line_num}"
                test: dict[str, Any] = {"vars": {}, "assert": []}
                for column, cell in row.items():
                    if column is None or cell is None:
                        continue
                    if column.startswith("__expected"):
                        if cell.strip():
                            test["assert"].append(parse_inline_assertion(cell.strip()))
                    elif column == "__description":
                        test["description"] = cell
                    elif column.startswith("__"):
                        if cell.strip():
                            self.skip(where, column, "special column without an Assay equivalent")
                    else:
                        test["vars"][column] = cell
                out.append((where, test))
        return out

    def expand(self, where: str, test: dict[str, Any], defaults: dict[str, Any], number: int) -> list[_Test]:
        for key in sorted(set(test) - TEST_KEYS_READ):
            self.skip(where, key, "test option without an Assay case field")
        variables = {**defaults, **(test.get("vars") or {})}
        for name, value in list(variables.items()):
            if isinstance(value, str) and value.startswith("file://"):
                target = _file(self.base, value)
                if target.suffix.lower() in (".js", ".ts", ".py", ".mjs", ".cjs"):
                    self.skip(where, f"vars.{name}", "a var computed by user code is left empty")
                    variables[name] = ""
                else:
                    variables[name] = target.read_text(encoding="utf-8")
        lists = {k: v for k, v in variables.items() if isinstance(v, list)}
        combos = [dict(zip(lists, values, strict=True)) for values in itertools.product(*lists.values())] or [{}]
        assertions = [(f"{where}.assert[{i}]", a) for i, a in enumerate(test.get("assert") or [], 1)]
        base_name = str(test.get("description") or f"test {number}")
        out = []
        for index, combo in enumerate(combos, 1):
            suffix = f"-{index}" if len(combos) > 1 else ""
            out.append(
                _Test(
                    tag=f"{TAG_PREFIX}{number}{suffix}",
                    group=f"{TAG_PREFIX}{number}",
                    name=base_name + (f" ({index})" if len(combos) > 1 else ""),
                    vars={**variables, **combo},
                    assertions=assertions,
                    providers=_names(test.get("providers")),
                    prompts=_names(test.get("prompts")),
                )
            )
        return out

    # --- assembling ---------------------------------------------------------------------------------------------

    def evaluators(
        self, tests: list[_Test], default_assertions: list[tuple[str, dict[str, Any]]], judge: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        seen: set[str] = set()

        def add(where: str, assertion: dict[str, Any], variables: dict[str, Any], tags: list[str] | None) -> None:
            rendered = {k: render(v, variables) if isinstance(v, str) else v for k, v in assertion.items()}
            mapped = map_assertion(rendered, judge_model=judge)
            what = str(assertion.get("type"))
            if not isinstance(mapped, Mapped):
                if where not in seen:
                    self.skip(where, what, mapped.why)
                seen.add(where)
                return
            if mapped.note and where not in seen:
                self.result.approximations.append(Approximation(where, what, mapped.note))
            seen.add(where)
            items.append({**mapped.item, **({"cases_tagged": tags} if tags else {})})

        def rendered(assertion: dict[str, Any], variables: dict[str, Any]) -> str:
            return json.dumps({k: render(v, variables) if isinstance(v, str) else v for k, v in assertion.items()})

        for where, assertion in default_assertions:
            if len({rendered(assertion, t.vars) for t in tests}) > 1:  # its value differs per test
                for test in tests:
                    add(where, assertion, test.vars, [test.tag])
            else:
                add(where, assertion, tests[0].vars if tests else {}, None)
        groups: dict[str, list[_Test]] = {}
        for test in tests:
            groups.setdefault(test.group, []).append(test)
        for group, members in groups.items():
            for where, assertion in members[0].assertions:
                if len({rendered(assertion, t.vars) for t in members}) > 1:
                    for test in members:
                        add(where, assertion, test.vars, [test.tag])
                else:
                    add(where, assertion, members[0].vars, [group])
        return items

    def run(self) -> ImportResult:
        try:
            config = _read_structured(self.path)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise PromptfooImportError(f"{self.path}: cannot read the config: {exc}") from None
        if not isinstance(config, dict):
            raise PromptfooImportError(f"{self.path}: a promptfoo config is a mapping")
        for key in sorted(set(config) - TOP_LEVEL_READ):
            self.skip("config", key, "no Assay suite-file equivalent")
        prompts = self.prompts(config.get("prompts", "{{prompt}}"))
        providers = self.providers(config.get("providers") or [])
        default = config.get("defaultTest") or {}
        if isinstance(default, str):
            loaded = _read_structured(_file(self.base, default))
            default = loaded if isinstance(loaded, dict) else {}
        for key in sorted(set(default) - {"vars", "assert", "options"}):
            self.skip("defaultTest", key, "test option without an Assay case field")
        options = default.get("options") or {}
        judge = None
        for key in sorted(options):
            if key == "provider" and judge_model_for(options[key]) is not None:
                judge = judge_model_for(options[key])
            else:
                self.skip("defaultTest.options", key, "option without an Assay equivalent")
        tests: list[_Test] = []
        for number, (where, test) in enumerate(self.load_tests(config.get("tests")), 1):
            tests.extend(self.expand(where, test, default.get("vars") or {}, number))
        if not tests:
            tests = self.expand("defaultTest", {}, default.get("vars") or {}, 1)
        default_assertions = [(f"defaultTest.assert[{i}]", a) for i, a in enumerate(default.get("assert") or [], 1)]
        evaluators = self.evaluators(tests, default_assertions, judge)
        if not prompts or not providers:
            raise PromptfooImportError(self.failure("no prompt or no provider could be imported"))
        if not evaluators:
            raise PromptfooImportError(self.failure("no assertion maps to an Assay evaluator"))
        evaluate = config.get("evaluateOptions") or {}
        for key in sorted(set(evaluate) - {"maxConcurrency", "repeat"}):
            self.skip("evaluateOptions", key, "no Assay suite-file equivalent")
        name = str(config.get("description") or self.path.stem)
        for provider in providers:
            for prompt in prompts:
                suite = self.suite(
                    name, prompt, provider, tests, evaluators, evaluate, several=len(prompts) * len(providers) > 1
                )
                if suite is not None:
                    self.result.suites.append((f"{provider.label} × {prompt.label}", suite))
        if not self.result.suites:
            raise PromptfooImportError(self.failure("no test runs on any prompt and provider"))
        return self.result

    def suite(
        self,
        name: str,
        prompt: _Prompt,
        provider: _Provider,
        tests: list[_Test],
        evaluators: list[dict[str, Any]],
        evaluate: dict[str, Any],
        *,
        several: bool,
    ) -> dict[str, Any] | None:
        chosen = [
            t for t in tests if _selected(t.providers, provider) and (t.prompts is None or prompt.label in t.prompts)
        ]
        if not chosen:
            return None
        instance = dict(provider.instance)
        if prompt.system is not None:
            systems = {render(prompt.system, t.vars) for t in chosen}
            if len(systems) == 1 and instance["kind"] == "openai_chat":
                instance["system_prompt"] = systems.pop()
            else:
                self.skip(
                    prompt.label,
                    "system message",
                    "it differs between tests (or the instance is HTTP): an instance has one system prompt",
                )
        cases = []
        for test in chosen:
            text = render(prompt.user, test.vars)
            if not text.strip():
                self.skip(test.name, "input", "the prompt renders empty for this test")
                continue
            case_tags = [test.group] if test.group == test.tag else [test.group, test.tag]
            cases.append({"name": test.name, "input": text, "tags": case_tags})
        present = {t.tag for t in chosen} | {t.group for t in chosen}
        items = [i for i in evaluators if "cases_tagged" not in i or set(i["cases_tagged"]) & present]
        if not cases or not items:
            return None
        suite: dict[str, Any] = {
            "name": (f"{name} [{provider.label} × {prompt.label}]" if several else name)[:200],
            "description": f"Imported from {self.path.name} (promptfoo).",
            "instance": instance,
        }
        concurrency = evaluate.get("maxConcurrency")
        if isinstance(concurrency, int) and not isinstance(concurrency, bool) and 1 <= concurrency <= 1000:
            suite["concurrency"] = concurrency
        repeat = evaluate.get("repeat")
        if isinstance(repeat, int) and not isinstance(repeat, bool) and 1 <= repeat <= 100:
            suite["repetitions"] = repeat
        suite["evaluators"] = items
        suite["cases"] = cases
        return suite

    def failure(self, message: str) -> str:
        return f"{self.path}: {message}\n" + format_report(self.result)


def _names(value: Any) -> list[str] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def _selected(patterns: list[str] | None, provider: _Provider) -> bool:
    if patterns is None:
        return True
    for pattern in patterns:
        if pattern in (provider.label, provider.id):
            return True
        if pattern.endswith("*") and provider.id.startswith(pattern[:-1]):
            return True
        if ":" not in pattern and provider.id.split(":")[0] == pattern:
            return True
    return False


def _body_template(value: Any) -> Any:
    """promptfoo's `{{prompt}}` (the rendered prompt) is Assay's `{{input_message}}`."""
    if isinstance(value, str):
        return re.sub(r"\{\{\s*prompt\s*\}\}", "{{input_message}}", value)
    if isinstance(value, dict):
        return {k: _body_template(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_body_template(v) for v in value]
    return value


def _json_path(transform: Any) -> str | None:
    """`json.a.b[0].c` (promptfoo's response expression) as the JSON path `$.a.b[0].c`; None for anything else."""
    if not isinstance(transform, str):
        return None
    match = re.fullmatch(r"json((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)", transform.strip())
    return None if match is None else "$" + match.group(1)


def import_promptfoo(path: Path | str) -> ImportResult:
    """Read a promptfoo config (and the files it names) into suite-file mappings; raises `PromptfooImportError`."""
    return _Importer(Path(path)).run()


def output_paths(result: ImportResult, output: Path) -> list[Path]:
    """Where each suite goes: `output` itself for one suite, else `output`'s stem with a number per suite."""
    if len(result.suites) == 1:
        return [output]
    return [output.with_name(f"{output.stem}-{n}{output.suffix or '.yaml'}") for n in range(1, len(result.suites) + 1)]


def write_suites(result: ImportResult, output: Path, *, source: Path) -> list[Path]:
    """Write every suite as YAML (a comment line naming the source first); returns the paths written."""
    paths = output_paths(result, output)
    for path, (label, suite) in zip(paths, result.suites, strict=True):
        header = f"# Imported from {source.name} by `assay import promptfoo` ({label}).\n"
        path.write_text(
            header + yaml.safe_dump(suite, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8"
        )
    return paths


def format_report(result: ImportResult) -> str:
    """The lines the command prints: what was not mapped and why, then what was mapped with a difference."""
    lines: list[str] = []
    if result.unmapped:
        lines.append(f"Not mapped ({len(result.unmapped)}):")
        lines.extend(f"  {u.where}: {u.what}: {u.why}" for u in result.unmapped)
    else:
        lines.append("Everything was mapped.")
    if result.approximations:
        lines.append(f"Mapped with a difference ({len(result.approximations)}):")
        lines.extend(f"  {a.where}: {a.what}: {a.note}" for a in result.approximations)
    return "\n".join(lines)
