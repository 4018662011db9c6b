"""A sandboxed, iterative HogVM compatible with the bytecode of ``@posthog/hogvm``.

The VM is a single loop over a value stack and an explicit call-frame stack, so Hog calls never
use Python recursion. Programs only ever see plain data (see ``stdlib.values``); native functions
come from a fixed registry, and I/O functions such as ``fetch`` are refused. Wall time, memory,
call depth, value-stack size, string length and array length are all bounded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from assay.hog.errors import (
    HogError,
    HogMemoryLimitError,
    HogRuntimeError,
    HogTimeoutError,
)
from assay.hog.stdlib import BYTECODE_FUNCTIONS, STL, UNAVAILABLE_FUNCTIONS
from assay.hog.stdlib.print import MAX_NESTING_DEPTH
from assay.hog.stdlib.regex import like, regex_match
from assay.hog.stdlib.registry import COST_PER_UNIT, ExecContext
from assay.hog.stdlib.values import (
    HogCallable,
    HogClosure,
    UpValue,
    compare,
    contains,
    format_number,
    get_property,
    is_hog_error,
    js_truthy,
    set_property,
    to_number,
)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_MEMORY_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_CALL_DEPTH = 1000
DEFAULT_MAX_STACK_SIZE = 100_000
DEFAULT_MAX_STRING_LENGTH = 16 * 1024 * 1024
DEFAULT_MAX_ARRAY_LENGTH = 1_000_000
DEFAULT_MAX_STDOUT_CHARS = 1024 * 1024
MAX_FUNCTION_ARGS = 300
#: Limits (time, memory, stack) are checked every this many operations (a power of two minus one mask).
CHECK_EVERY_MASK = 1023
_MAX_SAFE_INT = 2**53
_MIN_SWEEP_BYTES = 1024 * 1024


class HogUncaughtError(HogRuntimeError):
    """A Hog ``throw`` that no ``try`` caught; carries the thrown error's type, message and payload."""

    def __init__(self, type_: str, message: str, payload: Any = None) -> None:
        self.type = type_
        self.message = message
        self.payload = payload
        super().__init__(message)

    def __str__(self) -> str:
        msg = str(self.message).replace("'", "\\'")
        return f"{self.type}('{msg}')"


@dataclass(slots=True)
class HogResult:
    """What a finished program produced: its return value, printed lines and operation count."""

    result: Any
    stdout: list[str] = field(default_factory=list)
    ops: int = 0


def _num_result(value: int | float) -> int | float:
    if type(value) is int and not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return float(value)
    return value


def _add(a: Any, b: Any) -> int | float:
    if type(a) is int and type(b) is int:
        return _num_result(a + b)
    return _num_result(to_number(a) + to_number(b))


def _sub(a: Any, b: Any) -> int | float:
    if type(a) is int and type(b) is int:
        return _num_result(a - b)
    return _num_result(to_number(a) - to_number(b))


def _mul(a: Any, b: Any) -> int | float:
    a, b = to_number(a), to_number(b)
    try:
        return _num_result(a * b)
    except OverflowError:
        return math.inf if (a > 0) == (b > 0) else -math.inf


def _div(a: Any, b: Any) -> float:
    a, b = to_number(a), to_number(b)
    if b == 0:
        if a == 0 or a != a:
            return math.nan
        negative = (a < 0) != (math.copysign(1.0, b) < 0)
        return -math.inf if negative else math.inf
    try:
        return a / b
    except OverflowError:
        return math.inf if (a > 0) == (b > 0) else -math.inf


def _mod(a: Any, b: Any) -> int | float:
    a, b = to_number(a), to_number(b)
    if type(a) is int and type(b) is int:
        if b == 0:
            return math.nan
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if b == 0 or a != a or b != b or math.isinf(a):
        return math.nan
    if math.isinf(b):
        return a
    return math.fmod(a, b)


def _host_to_hog(value: Any, depth: int = 0) -> Any:
    """Copy host data into plain Hog values; anything that is not plain data becomes a string."""
    t = type(value)
    if value is None or t is str or t is bool or t is int or t is float:
        return value
    if depth > MAX_NESTING_DEPTH:
        raise HogRuntimeError("Global value is nested too deeply")
    if t is dict:
        if "__hogDateTime__" in value or "__hogDate__" in value or "__hogError__" in value:
            return {k: _host_to_hog(v, depth + 1) for k, v in value.items()}
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = k if type(k) in (str, int, float, bool) or k is None else str(k)
            out[key] = _host_to_hog(v, depth + 1)
        return out
    if t is list or t is tuple:
        return [_host_to_hog(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return _host_to_hog(dict(value), depth)
    if isinstance(value, (list, tuple)):
        return _host_to_hog(list(value), depth)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


def _live_size(roots: list[Any], deadline: float) -> int:
    """Approximate bytes held by everything reachable from ``roots`` (shared objects counted once)."""
    seen: set[int] = set()
    total = 0
    todo = list(roots)
    pop = todo.pop
    push_all = todo.extend
    visited = 0
    while todo:
        visited += 1
        if not visited & 65535 and time.monotonic() > deadline:
            raise HogTimeoutError("Execution timed out while measuring memory")
        v = pop()
        t = type(v)
        if t is str:
            if len(v) > 64:
                i = id(v)
                if i in seen:
                    total += COST_PER_UNIT
                    continue
                seen.add(i)
            total += COST_PER_UNIT + len(v)
        elif t is list or t is tuple or t is dict:
            i = id(v)
            total += COST_PER_UNIT
            if i in seen:
                continue
            seen.add(i)
            if t is dict:
                push_all(v.keys())
                push_all(v.values())
            else:
                total += COST_PER_UNIT * len(v)
                push_all(v)
        elif t is HogClosure:
            i = id(v)
            total += COST_PER_UNIT
            if i in seen:
                continue
            seen.add(i)
            for uv in v.upvalues:
                if uv.closed and id(uv) not in seen:
                    seen.add(id(uv))
                    todo.append(uv.value)
        else:
            total += COST_PER_UNIT
    return total


def execute_bytecode(
    bytecode: list[Any],
    globals: dict[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
    max_call_depth: int = DEFAULT_MAX_CALL_DEPTH,
    max_stack_size: int = DEFAULT_MAX_STACK_SIZE,
    max_string_length: int = DEFAULT_MAX_STRING_LENGTH,
    max_array_length: int = DEFAULT_MAX_ARRAY_LENGTH,
    max_stdout_chars: int = DEFAULT_MAX_STDOUT_CHARS,
) -> HogResult:
    """Run HogVM bytecode (``["_H", version, ...]``) and return its result, printed lines and op count.

    Raises ``HogTimeoutError`` past ``timeout`` seconds, ``HogMemoryLimitError`` when the memory,
    string, array, value-stack or output limits are exceeded, and ``HogRuntimeError`` (or
    ``HogUncaughtError`` for an uncaught ``throw``) for any other failure, including calls nested
    deeper than ``max_call_depth``.
    """
    if not isinstance(bytecode, list) or not bytecode or bytecode[0] not in ("_H", "_h"):
        raise HogRuntimeError("Invalid HogQL bytecode, must start with '_H'")
    if bytecode[0] == "_H":
        version = bytecode[1] if len(bytecode) > 1 else 0
        start_ip = 2
    else:
        version = 0
        start_ip = 1
    host_globals: dict[str, Any] = globals or {}
    ctx = ExecContext(max_string_length, max_array_length, max_stdout_chars)
    try:
        return _run(
            bytecode, start_ip, version, host_globals, ctx, timeout, max_memory_bytes, max_call_depth, max_stack_size
        )
    except HogError:
        raise
    except MemoryError as e:
        raise HogMemoryLimitError("Memory limit exceeded") from e
    except RecursionError as e:
        raise HogRuntimeError("Value is nested too deeply") from e


def _run(
    root_code: list[Any],
    start_ip: int,
    version: int,
    host_globals: dict[str, Any],
    ctx: ExecContext,
    timeout: float,
    max_memory: int,
    max_call_depth: int,
    max_stack_size: int,
) -> HogResult:
    deadline = time.monotonic() + timeout
    ctx.deadline = deadline
    clock = time.monotonic
    stack: list[Any] = []
    push = stack.append
    pop = stack.pop
    # Saved caller frames: (code, return ip, base, closure, chunk name).
    frames: list[tuple[list[Any], int, int, HogClosure, str]] = []
    # Active try blocks: (number of saved frames, stack length, catch ip).
    throw_stack: list[tuple[int, int, int]] = []
    open_upvalues: list[UpValue] = []
    upvalue_at: dict[int, UpValue] = {}
    declared: dict[str, tuple[int, int]] = {}
    chunks: dict[str, list[Any]] = {"root": root_code}
    stl = STL

    code = root_code
    code_len = len(code)
    ip = start_ip
    base = 0
    chunk = "root"
    closure = HogClosure(HogCallable("local", "", 0, 0, start_ip, "root"))
    ops = 0
    sweep_at = _MIN_SWEEP_BYTES

    def close_upvalues(count: int) -> None:
        while open_upvalues and open_upvalues[-1].location >= count:
            uv = open_upvalues.pop()
            uv.closed = True
            uv.value = stack[uv.location]

    def capture_upvalue(location: int) -> UpValue:
        # Like the reference VM, a stack slot gets one upvalue for the whole run: a closure created
        # after the slot's first upvalue was closed shares that closed upvalue (and its value).
        found = upvalue_at.get(location)
        if found is not None:
            return found
        created = UpValue(location)
        upvalue_at[location] = created
        for i in range(len(open_upvalues) - 1, -1, -1):
            if open_upvalues[i].location < location:
                open_upvalues.insert(i + 1, created)
                return created
        open_upvalues.insert(0, created)
        return created

    def check_memory() -> None:
        nonlocal sweep_at
        roots: list[Any] = list(stack)
        for _, _, _, frame_closure, _ in frames:
            roots.append(frame_closure)
        roots.append(closure)
        live = _live_size(roots, deadline) + ctx.stdout_chars
        if live > max_memory:
            raise HogMemoryLimitError("Memory limit exceeded")
        ctx.allocated = 0
        sweep_at = max(_MIN_SWEEP_BYTES, live // 2)

    def check_limits() -> None:
        if clock() > deadline:
            raise HogTimeoutError(f"Execution timed out after {format_number(timeout)} seconds. Performed {ops} ops.")
        if len(stack) > max_stack_size:
            raise HogMemoryLimitError("Memory limit exceeded")
        if ctx.allocated > sweep_at:
            check_memory()

    def call_native(name: str, args: list[Any]) -> Any:
        entry = stl[name]
        try:
            result = entry.fn(args, ctx)
        except HogError:
            raise
        except MemoryError as e:
            raise HogMemoryLimitError("Memory limit exceeded") from e
        except RecursionError as e:
            raise HogRuntimeError(f"{name}: value is nested too deeply") from e
        except Exception as e:  # a native function failed on bad input, like a JS TypeError
            raise HogRuntimeError(f"{name}: {e}") from e
        t = type(result)
        if t is str:
            if len(result) > 64:
                if len(result) > ctx.max_string_length:
                    raise HogMemoryLimitError("Memory limit exceeded")
                ctx.allocated += len(result)
        elif t is list or t is dict or t is tuple:
            if len(result) > ctx.max_array_length:
                raise HogMemoryLimitError("Memory limit exceeded")
            ctx.allocated += COST_PER_UNIT * (len(result) + 1)
        if ctx.allocated > sweep_at:
            check_memory()
        return result

    def check_arity(name: str, argc: int) -> None:
        entry = stl[name]
        if argc < entry.min_args:
            raise HogRuntimeError(f"Function {name} requires at least {entry.min_args} arguments")
        if entry.max_args is not None and argc > entry.max_args:
            raise HogRuntimeError(f"Function {name} requires at most {entry.max_args} arguments")

    def chunk_code(name: str) -> list[Any]:
        found = chunks.get(name)
        if found is None:
            if name.startswith("stl/") and name[4:] in BYTECODE_FUNCTIONS:
                found = BYTECODE_FUNCTIONS[name[4:]][1]
                chunks[name] = found
            else:
                raise HogRuntimeError(f"Unknown chunk: {name}")
        return found

    def take_args(argc: int) -> list[Any]:
        if argc > len(stack):
            raise HogRuntimeError("Not enough arguments on the stack")
        if version == 0:
            return [pop() for _ in range(argc)]
        if argc == 0:
            return []
        args = stack[-argc:]
        del stack[-argc:]
        return args

    def unavailable(name: str) -> HogRuntimeError:
        return HogRuntimeError(f"{name}() is not available in Assay evaluations")

    try:
        while True:
            if ip >= code_len:
                # Ran off the end of a chunk: an implicit `return null` (or the program's end).
                if not frames:
                    return HogResult(pop() if stack else None, ctx.stdout, ops)
                if open_upvalues and open_upvalues[-1].location >= base:
                    close_upvalues(base)
                del stack[base:]
                push(None)
                code, ip, base, closure, chunk = frames.pop()
                code_len = len(code)
                continue
            op = code[ip]
            ops += 1
            if not ops & CHECK_EVERY_MASK:
                check_limits()

            if op == 36:  # GET_LOCAL
                push(stack[base + code[ip + 1]])
                ip += 2
            elif op == 33 or op == 32 or op == 34:  # INTEGER, STRING, FLOAT
                push(code[ip + 1])
                ip += 2
            elif op == 2:  # CALL_GLOBAL
                name = code[ip + 1]
                argc = code[ip + 2]
                if name in declared and name != "toString":
                    fn_ip, fn_argc = declared[name]
                    for _ in range(argc, fn_argc):
                        push(None)
                    frames.append((code, ip + 3, base, closure, chunk))
                    base = len(stack) - fn_argc
                    closure = HogClosure(HogCallable("local", name, fn_argc, 0, fn_ip, chunk))
                    ip = fn_ip
                    if len(frames) >= max_call_depth:
                        raise HogRuntimeError(f"Call stack exceeded maximum length of {max_call_depth}")
                    continue
                if argc > MAX_FUNCTION_ARGS:
                    raise HogRuntimeError("Too many arguments")
                if name in stl:
                    check_arity(name, argc)
                    push(call_native(name, take_args(argc)))
                    ip += 3
                elif name in BYTECODE_FUNCTIONS:
                    arg_names, fn_code = BYTECODE_FUNCTIONS[name]
                    if len(arg_names) != argc:
                        raise HogRuntimeError(f"Function {name} requires exactly {len(arg_names)} arguments")
                    if argc > len(stack):
                        raise HogRuntimeError("Not enough arguments on the stack")
                    frames.append((code, ip + 3, base, closure, chunk))
                    if len(frames) >= max_call_depth:
                        raise HogRuntimeError(f"Call stack exceeded maximum length of {max_call_depth}")
                    chunk = "stl/" + name
                    code = chunk_code(chunk)
                    code_len = len(code)
                    base = len(stack) - argc
                    closure = HogClosure(HogCallable("stl", name, argc, 0, 0, chunk))
                    ip = 2
                elif name in UNAVAILABLE_FUNCTIONS:
                    raise unavailable(name)
                else:
                    raise HogRuntimeError(f"Unsupported function call: {name}")
            elif op == 40:  # JUMP_IF_FALSE
                value = pop()
                if value is False or value is None or not js_truthy(value):
                    ip += 2 + code[ip + 1]
                else:
                    ip += 2
            elif op == 39:  # JUMP
                ip += 2 + code[ip + 1]
            elif op == 37:  # SET_LOCAL
                stack[base + code[ip + 1]] = pop()
                ip += 2
            elif op == 35:  # POP
                pop()
                ip += 1
            elif op == 11:  # EQ
                left = pop()
                right = pop()
                tl = type(left)
                if (tl is str or tl is int) and tl is type(right):
                    push(left == right)
                else:
                    push(compare(left, right, "=="))
                ip += 1
            elif op == 12:  # NOT_EQ
                left = pop()
                right = pop()
                tl = type(left)
                if (tl is str or tl is int) and tl is type(right):
                    push(left != right)
                else:
                    push(compare(left, right, "!="))
                ip += 1
            elif op == 6:  # PLUS
                left = pop()
                push(_add(left, pop()))
                ip += 1
            elif op == 45 or op == 48:  # GET_PROPERTY, GET_PROPERTY_NULLISH
                key = pop()
                push(get_property(pop(), key))
                ip += 1
            elif op == 29:  # TRUE
                push(True)
                ip += 1
            elif op == 30:  # FALSE
                push(False)
                ip += 1
            elif op == 31:  # NULL
                push(None)
                ip += 1
            elif op == 38:  # RETURN
                result = pop()
                if not frames:
                    return HogResult(result, ctx.stdout, ops)
                if open_upvalues and open_upvalues[-1].location >= base:
                    close_upvalues(base)
                del stack[base:]
                push(result)
                code, ip, base, closure, chunk = frames.pop()
                code_len = len(code)
                while throw_stack and throw_stack[-1][0] > len(frames):
                    throw_stack.pop()
            elif op == 54:  # CALL_LOCAL
                target = pop()
                argc = code[ip + 1]
                if type(target) is not HogClosure:
                    raise HogRuntimeError(f"Invalid closure: {target!r}")
                if argc > len(stack):
                    raise HogRuntimeError("Not enough arguments on the stack")
                if argc > MAX_FUNCTION_ARGS:
                    raise HogRuntimeError("Too many arguments")
                fn = target.callable
                if fn.kind == "local" or (fn.kind == "stl" and fn.chunk.startswith("stl/")):
                    if fn.arg_count > argc:
                        for _ in range(argc, fn.arg_count):
                            push(None)
                    elif fn.arg_count < argc:
                        raise HogRuntimeError(f"Too many arguments. Passed {argc}, expected {fn.arg_count}")
                    frames.append((code, ip + 2, base, closure, chunk))
                    if len(frames) >= max_call_depth:
                        raise HogRuntimeError(f"Call stack exceeded maximum length of {max_call_depth}")
                    if fn.chunk != chunk:
                        chunk = fn.chunk
                        code = chunk_code(chunk)
                        code_len = len(code)
                    base = len(stack) - fn.arg_count
                    closure = target
                    ip = fn.ip
                elif fn.kind == "stl":
                    name = fn.name
                    if name not in stl:
                        raise HogRuntimeError(f"Unsupported function call: {name}")
                    check_arity(name, argc)
                    args = [pop() for _ in range(argc)]
                    if version > 0:
                        args.reverse()
                    max_args = stl[name].max_args
                    if max_args is not None:
                        while len(args) < max_args:
                            args.append(None)
                    push(call_native(name, args))
                    ip += 2
                else:
                    raise unavailable(fn.name)
            elif op == 15 or op == 16 or op == 13 or op == 14:  # LT, LT_EQ, GT, GT_EQ
                left = pop()
                right = pop()
                tl = type(left)
                if (tl is int or tl is float) and (type(right) is int or type(right) is float):
                    if op == 15:
                        push(left < right)
                    elif op == 16:
                        push(left <= right)
                    elif op == 13:
                        push(left > right)
                    else:
                        push(left >= right)
                else:
                    push(compare(left, right, _COMPARE_OPS[op]))
                ip += 1
            elif op == 5:  # NOT
                push(not js_truthy(pop()))
                ip += 1
            elif op == 3:  # AND
                count = code[ip + 1]
                ok = True
                for _ in range(count):
                    ok = js_truthy(pop()) and ok
                push(ok)
                ip += 2
            elif op == 4:  # OR
                count = code[ip + 1]
                ok = False
                for _ in range(count):
                    ok = js_truthy(pop()) or ok
                push(ok)
                ip += 2
            elif op == 7:  # MINUS
                left = pop()
                push(_sub(left, pop()))
                ip += 1
            elif op == 8:  # MULTIPLY
                left = pop()
                push(_mul(left, pop()))
                ip += 1
            elif op == 9:  # DIVIDE
                left = pop()
                push(_div(left, pop()))
                ip += 1
            elif op == 10:  # MOD
                left = pop()
                push(_mod(left, pop()))
                ip += 1
            elif op == 47:  # JUMP_IF_STACK_NOT_NULL
                if stack and stack[-1] is not None:
                    ip += 2 + code[ip + 1]
                else:
                    ip += 2
            elif op == 1:  # GET_GLOBAL
                count = code[ip + 1]
                chain = [pop() for _ in range(count)]
                first = chain[0] if chain else None
                if type(first) is str and first in host_globals:
                    value = host_globals
                    for key in chain:
                        if value is None:
                            break
                        value = get_property(value, key) if type(value) in (dict, list, tuple) else None
                    value = _host_to_hog(value)
                    if type(value) in (list, dict):
                        ctx.allocated += COST_PER_UNIT * (len(value) + 1)
                    push(value)
                elif count == 1 and first in stl:
                    push(HogClosure(HogCallable("stl", first, stl[first].max_args or 0, 0, -1, "stl")))
                elif count == 1 and first in BYTECODE_FUNCTIONS:
                    arg_names = BYTECODE_FUNCTIONS[first][0]
                    push(HogClosure(HogCallable("stl", first, len(arg_names), 0, 2, "stl/" + first)))
                elif count == 1 and first in UNAVAILABLE_FUNCTIONS:
                    push(HogClosure(HogCallable("async", first, 0, 0, -1, "async")))
                else:
                    raise HogRuntimeError(f"Global variable not found: {'.'.join(str(c) for c in chain)}")
                ip += 2
            elif op == 46:  # SET_PROPERTY
                value = pop()
                key = pop()
                set_property(pop(), key, value)
                ctx.allocated += 2 * COST_PER_UNIT
                ip += 1
            elif op == 42:  # DICT
                count = code[ip + 1] * 2
                if count:
                    items = stack[-count:]
                    del stack[-count:]
                    try:
                        push(dict(zip(items[0::2], items[1::2], strict=True)))
                    except TypeError as e:
                        raise HogRuntimeError("Dictionary keys must be strings, numbers, booleans or null") from e
                else:
                    push({})
                ctx.allocated += COST_PER_UNIT * (count + 1)
                ip += 2
            elif op == 43 or op == 44:  # ARRAY, TUPLE
                count = code[ip + 1]
                if count:
                    items = stack[-count:]
                    del stack[-count:]
                else:
                    items = []
                push(items if op == 43 else tuple(items))
                ctx.allocated += COST_PER_UNIT * (count + 1)
                ip += 2
            elif op == 21 or op == 22:  # IN, NOT_IN
                item = pop()
                found = contains(pop(), item)
                push(found if op == 21 else not found)
                ip += 1
            elif op >= 17 and op <= 20:  # LIKE, ILIKE, NOT_LIKE, NOT_ILIKE
                value = pop()
                matched = like(value, pop(), op == 18 or op == 20, ctx)
                push(matched if op <= 18 else not matched)
                ip += 1
            elif op >= 23 and op <= 26:  # REGEX, NOT_REGEX, IREGEX, NOT_IREGEX
                value = pop()
                pattern = pop()
                matched = regex_match(pattern, value, op >= 25, ctx)
                push(matched if op == 23 or op == 25 else not matched)
                ip += 1
            elif op == 52:  # CALLABLE
                fn = HogCallable("local", code[ip + 1], code[ip + 2], code[ip + 3], ip + 5, chunk)
                push(fn)
                ip += 5 + code[ip + 4]
            elif op == 53:  # CLOSURE
                fn = pop()
                if type(fn) is not HogCallable:
                    raise HogRuntimeError(f"Invalid callable: {fn!r}")
                count = code[ip + 1]
                if count != fn.upvalue_count:
                    raise HogRuntimeError(f"Invalid upvalue count. Expected {fn.upvalue_count}, got {count}")
                captured: list[UpValue] = []
                pos = ip + 2
                for _ in range(count):
                    is_local = code[pos]
                    index = code[pos + 1]
                    pos += 2
                    if is_local:
                        captured.append(capture_upvalue(base + index))
                    else:
                        captured.append(closure.upvalues[index])
                push(HogClosure(fn, captured))
                ip = pos
            elif op == 55:  # GET_UPVALUE
                index = code[ip + 1]
                if index >= len(closure.upvalues):
                    raise HogRuntimeError(f"Invalid upvalue index: {index}")
                uv = closure.upvalues[index]
                push(uv.value if uv.closed else stack[uv.location])
                ip += 2
            elif op == 56:  # SET_UPVALUE
                index = code[ip + 1]
                if index >= len(closure.upvalues):
                    raise HogRuntimeError(f"Invalid upvalue index: {index}")
                uv = closure.upvalues[index]
                if uv.closed:
                    uv.value = pop()
                else:
                    stack[uv.location] = pop()
                ip += 2
            elif op == 57:  # CLOSE_UPVALUE
                keep = len(stack) - 1
                if open_upvalues and open_upvalues[-1].location >= keep:
                    close_upvalues(keep)
                pop()
                ip += 1
            elif op == 50:  # TRY
                throw_stack.append((len(frames), len(stack), ip + 1 + code[ip + 1]))
                ip += 2
            elif op == 51:  # POP_TRY
                if not throw_stack:
                    raise HogRuntimeError("Invalid operation POP_TRY: no try block to pop")
                throw_stack.pop()
                ip += 1
            elif op == 49:  # THROW
                exception = pop()
                if not is_hog_error(exception):
                    raise HogRuntimeError("Can not throw: value is not of type Error")
                if not throw_stack:
                    raise HogUncaughtError(exception["type"], exception["message"], exception.get("payload"))
                frame_count, stack_len, catch_ip = throw_stack.pop()
                if open_upvalues and open_upvalues[-1].location >= stack_len:
                    close_upvalues(stack_len)
                del stack[stack_len:]
                if frame_count < len(frames):
                    code, _, base, closure, chunk = frames[frame_count]
                    del frames[frame_count:]
                    code_len = len(code)
                push(exception)
                ip = catch_ip
            elif op == 41:  # DECLARE_FN (deprecated)
                declared[code[ip + 1]] = (ip + 4, code[ip + 2])
                ip += 4 + code[ip + 3]
            elif op == 27 or op == 28:  # IN_COHORT, NOT_IN_COHORT
                raise HogRuntimeError("Cohort membership is not available in Assay evaluations")
            elif op is None:
                ip += 1
            else:
                raise HogRuntimeError(f'Unexpected node while running bytecode in chunk "{chunk}": {op}')
    except HogError:
        raise
    except IndexError as e:
        raise HogRuntimeError(f"Invalid bytecode at position {ip} in chunk {chunk}: {e}") from e
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise HogRuntimeError(f"Invalid operation at position {ip} in chunk {chunk}: {e}") from e


_COMPARE_OPS = {13: ">", 14: ">=", 15: "<", 16: "<="}

__all__ = [
    "DEFAULT_MAX_MEMORY_BYTES",
    "DEFAULT_TIMEOUT",
    "HogResult",
    "HogUncaughtError",
    "execute_bytecode",
]
