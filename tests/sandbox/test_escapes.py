"""The escape corpus: evaluator code that holds the real `os`, `sys` and `ctypes` (recovered through object
graphs, as any attacker would) tries to get out. Every attempt must end in a clear error or a denied result,
and the very next ordinary call on the same pool must work."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from assay.sandbox.pool import SandboxPool
from assay.sandbox.process import CallResult
from tests.sandbox.conftest import SECRET

# Recovers the real modules without `import`: what the kernel layers have to contain.
PRELUDE = """
def _os():
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return cls.__init__.__globals__
    raise AssertionError("no os")

class _NS:
    def __init__(self, d):
        self.__dict__.update(d)

os = _NS(_os())
sys = os.sys

def _ctypes():
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "CDLL":
            return _NS(cls.__init__.__globals__)
    raise AssertionError("no ctypes")

def _libc():
    ctypes = _ctypes()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return ctypes, libc
"""

GOOD = "def evaluate(input, output, **kw):\n    return (output == input, 'same' if output == input else 'differs')\n"


@dataclass(frozen=True)
class Attempt:
    name: str
    body: str
    error: str | None = None
    """Substring of the error the call must end with (None: the call must succeed and say `denied`)."""
    kind: str | None = None
    timeout: float | None = None
    """Wall-clock limit of the call (None: the pool's); filling memory page by page takes a while."""


def _denied_all(*checks: str) -> str:
    """An evaluator running each statement and collecting how it failed; it escaped if any succeeded."""
    lines = ["def evaluate(**kw):", "    out = []"]
    for check in checks:
        lines += [
            "    try:",
            f"        value = {check}",
            f"        out.append(('ESCAPED', {check!r}, repr(value)[:200]))",
            "    except Exception as exc:",
            "        out.append(type(exc).__name__)",
        ]
    lines.append("    return (True, repr(out))")
    return "\n".join(lines) + "\n"


ATTEMPTS = [
    Attempt("read /etc/passwd with open", "def evaluate(**kw):\n    return open('/etc/passwd').read()\n", "NameError"),
    Attempt(
        "read files with the real os",
        _denied_all(
            "os.open('/etc/passwd', 0)",
            "os.open('/etc/shadow', 0)",
            "os.open('/proc/self/environ', 0)",
            "os.open('/proc/1/environ', 0)",
            "os.open('/proc/self/maps', 0)",
            "os.listdir('/')",
            "os.stat('/etc/passwd')",
            "os.readlink('/proc/self/exe')",
        ),
    ),
    Attempt(
        "read the parent's memory and environment",
        _denied_all(
            "os.open('/proc/%d/mem' % kw['parent'], 0)",
            "os.open('/proc/%d/environ' % kw['parent'], 0)",
            "os.open('/proc/%d/cmdline' % kw['parent'], 0)",
        ),
    ),
    Attempt(
        "process_vm_readv and ptrace on the parent",
        _denied_all(
            "_libc()[1].syscall(310, kw['parent'], 0, 1, 0, 1, 0) >= 0 or _raise()",  # process_vm_readv
            "_libc()[1].syscall(101, 16, kw['parent'], 0, 0) >= 0 or _raise()",  # ptrace(ATTACH)
        ),
    ),
    Attempt(
        "environment variables",
        "def evaluate(**kw):\n    env = dict(os.environ)\n    return (not env, repr(env))\n",
    ),
    Attempt(
        "write outside",
        _denied_all(
            "os.open('/tmp/assay-sandbox-pwned', os.O_WRONLY | os.O_CREAT, 0o644)",
            "os.mkdir('/tmp/assay-sandbox-dir')",
            "os.rename('/tmp', '/tmp2')",
            "os.write(os.open('/dev/shm/x', os.O_WRONLY | os.O_CREAT), b'x')",
        ),
    ),
    Attempt(
        "sockets through the socket module",
        "def evaluate(**kw):\n    import socket\n    return True\n",
        "ImportError: import of 'socket' is not allowed",
    ),
    Attempt(
        "sockets and DNS with the real import machinery",
        _denied_all(
            "os.__builtins__['__import__']('socket')",
            "os.__builtins__['__import__']('_socket')",
            "os.__builtins__['__import__']('urllib.request')",
        ),
    ),
    Attempt(
        "raw sockets through ctypes",
        _denied_all(
            "_libc()[1].socket(2, 1, 0) >= 0 or _raise()",  # AF_INET, SOCK_STREAM
            "_libc()[1].socket(1, 1, 0) >= 0 or _raise()",  # AF_UNIX
            "_libc()[1].socket(16, 3, 0) >= 0 or _raise()",  # AF_NETLINK
            "_libc()[1].socket(10, 2, 0) >= 0 or _raise()",  # AF_INET6, UDP (DNS)
        ),
    ),
    Attempt(
        "subprocesses",
        _denied_all(
            "os.fork()",
            "os.posix_spawn('/bin/sh', ['sh', '-c', 'id'], {})",
            "os.execv('/bin/sh', ['sh'])",
            "os.system('id > /tmp/assay-sandbox-pwned2') == 0 or _raise()",
            "os.__builtins__['__import__']('subprocess').run(['id'])",
        ),
    ),
    Attempt(
        "fork bomb",
        "def evaluate(**kw):\n"
        "    forks = 0\n"
        "    for _ in range(2000):\n"
        "        try:\n"
        "            pid = os.fork()\n"
        "        except OSError:\n"
        "            continue\n"
        "        if pid == 0:\n"
        "            os._exit(0)\n"
        "        forks += 1\n"
        "    return (forks == 0, 'forks: %d' % forks)\n",
    ),
    Attempt(
        "threads",
        _denied_all("os.__builtins__['__import__']('_thread').start_new_thread(print, ())"),
    ),
    Attempt(
        "signals to the parent and to everyone",
        _denied_all(
            "os.kill(kw['parent'], 9)",
            "os.kill(-1, 9)",
            "os.killpg(kw['parent'], 9)",
            "_libc()[1].syscall(62, kw['parent'], 9) >= 0 or _raise()",
        ),
    ),
    Attempt(
        "kernel attack surface through ctypes",
        _denied_all(
            "_libc()[1].unshare(0x10000000) >= 0 or _raise()",
            "_libc()[1].mount(b'none', b'/tmp', b'tmpfs', 0, None) >= 0 or _raise()",
            "_libc()[1].syscall(425, 8, 0) >= 0 or _raise()",  # io_uring_setup
            "_libc()[1].syscall(321, 0, 0, 0) >= 0 or _raise()",  # bpf
            "_libc()[1].syscall(319, b'x', 0) >= 0 or _raise()",  # memfd_create
            "_libc()[1].syscall(157, 38, 0, 0, 0, 0) >= 0 or _raise()",  # prctl
            "_libc()[1].syscall(302, 0, 9, _libc()[0].byref(_libc()[0].c_uint64(1 << 40)), 0) >= 0 or _raise()",
        ),
    ),
    Attempt(
        "raise its own limits",
        "def evaluate(**kw):\n"
        "    resource = _ctypes()  # any module will do to reach the real import\n"
        "    r = os.__builtins__['__import__']('resource')\n"
        "    r.setrlimit(r.RLIMIT_AS, (1 << 40, 1 << 40))\n"
        "    return True\n",
        "Error",
    ),
    Attempt(
        "a system call through the x32 ABI",
        "def evaluate(**kw):\n    ctypes, libc = _libc()\n    libc.syscall(0x40000000 | 257, -100, b'/etc/passwd', 0)\n    return True\n",
        "SIGSYS",
        "crashed",
    ),
    Attempt(
        "import os directly",
        "def evaluate(**kw):\n    import os as real\n    return True\n",
        "ImportError: import of 'os' is not allowed",
    ),
    Attempt(
        "import through __import__, importlib and sys.modules",
        _denied_all(
            "__import__('os')",
            "__import__('importlib')",
            "sys.modules['os']",
            "sys.modules['importlib'].import_module('subprocess')",
            "os.__builtins__['__import__']('importlib').import_module('ctypes.util')",
            "os.__builtins__['__import__']('gc')",
            "os.__builtins__['__import__']('_posixsubprocess')",
        ),
    ),
    Attempt(
        "frame walking to the worker's globals, then a file",
        "def evaluate(**kw):\n"
        "    try:\n"
        "        raise ValueError\n"
        "    except ValueError as exc:\n"
        "        frame = exc.__traceback__.tb_frame\n"
        "    while frame.f_back is not None and 'serve' not in frame.f_code.co_name:\n"
        "        frame = frame.f_back\n"
        "    real_os = frame.f_globals['os']\n"
        "    return real_os.open('/etc/passwd', 0)\n",
        "PermissionError",
    ),
    Attempt(
        "gc.get_objects to the worker's modules, then a socket",
        "def evaluate(**kw):\n"
        "    gc = None\n"
        "    for cls in ().__class__.__base__.__subclasses__():\n"
        "        g = getattr(getattr(cls, '__init__', None), '__globals__', None) or {}\n"
        "        if 'gc' in g and hasattr(g['gc'], 'get_objects'):\n"
        "            gc = g['gc']\n"
        "            break\n"
        "    if gc is None:\n"
        "        raise LookupError('no gc reachable')\n"
        "    return gc.get_objects() and os.open('/etc/hostname', 0)\n",
        "Error",
    ),
    Attempt(
        "memory: one huge allocation",
        "def evaluate(**kw):\n    return len(bytearray(10 * 1024 ** 3)) > 0\n",
        "MemoryError",
        "memory",
    ),
    Attempt(
        "memory: growing until it runs out",
        "def evaluate(**kw):\n    xs = []\n    while True:\n        xs.append(bytearray(16 << 20))\n",
        "MemoryError",
        "memory",
        timeout=10,
    ),
    Attempt(
        "cpu: an endless loop", "def evaluate(**kw):\n    while True:\n        pass\n", "no answer within", "timeout"
    ),
    Attempt(
        "cpu: a loop that swallows every exception",
        "def evaluate(**kw):\n    while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\n",
        "no answer within",
        "timeout",
    ),
    Attempt("sleeping", "def evaluate(**kw):\n    import time\n    time.sleep(100)\n", "no answer within", "timeout"),
    Attempt(
        "recursion in Python and in C",
        _denied_all("(lambda f: f(f))(lambda f: f(f))", "__import__('json').loads('[' * 10 ** 6)"),
    ),
    Attempt(
        "exit from the evaluator",
        "def evaluate(**kw):\n    raise SystemExit(0)\n",
        "SystemExit",
        "exception",
    ),
    Attempt(
        "huge output on the protocol pipe",
        "def evaluate(**kw):\n    os.write(1, b'\\xff' * (10 << 20))\n    return True\n",
        "too large",
        "protocol",
    ),
    Attempt(
        "a huge reason and a huge print",
        "def evaluate(**kw):\n    print('p' * (4 << 20))\n    return (len('x' * (4 << 20)) > 0, 'r' * (4 << 20))\n",
    ),
    Attempt(
        "a forged answer frame",
        "def evaluate(**kw):\n"
        '    body = b\'{"id": 0, "ok": true, "passed": true}\'\n'
        "    os.write(1, len(body).to_bytes(4, 'big') + body)\n"
        "    return True\n",
        "protocol",
        "protocol",
    ),
    Attempt(
        "breaking the worker's encoder",
        "def evaluate(**kw):\n"
        "    for m in ().__class__.__base__.__subclasses__():\n"
        "        g = getattr(getattr(m, '__init__', None), '__globals__', None) or {}\n"
        "        if 'split_frames' in g:\n"
        "            g['encode'] = lambda message: b'garbage'\n"
        "    return True\n",
        "too large",
        "protocol",
    ),
]


def _raise_helper() -> str:
    return "\ndef _raise():\n    raise PermissionError('the call returned -1')\n"


def _run(pool: SandboxPool, attempt: Attempt) -> CallResult:
    source = PRELUDE + _raise_helper() + attempt.body
    return pool.submit("escape", source, {"parent": os.getpid()}, timeout=attempt.timeout).result(timeout=30)


def _assert_healthy(pool: SandboxPool) -> None:
    result = pool.submit("escape", GOOD, {"input": "a", "output": "a"}).result(timeout=30)
    assert result.ok and result.passed is True and result.reason == "same", result


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a.name for a in ATTEMPTS])
def test_escape_attempt_is_contained(pool: SandboxPool, attempt: Attempt) -> None:
    result = _run(pool, attempt)
    if attempt.error is None:
        assert result.ok, result
        assert "ESCAPED" not in result.reason, result.reason
        assert result.passed is True, result
        assert len(result.reason) <= 2000 and len(result.logs) <= 4096
    else:
        assert not result.ok, result
        assert attempt.error in (result.error or ""), result
        if attempt.kind is not None:
            assert result.kind == attempt.kind, result
    assert SECRET not in repr(result)
    _assert_healthy(pool)


def test_nothing_was_written_outside() -> None:
    for name in ("/tmp/assay-sandbox-pwned", "/tmp/assay-sandbox-pwned2", "/tmp/assay-sandbox-dir", "/dev/shm/x"):
        assert not Path(name).exists(), name


def test_a_killed_worker_is_replaced_and_the_queue_behind_it_runs(pool: SandboxPool) -> None:
    hang = pool.submit("escape", "def evaluate(**kw):\n    while True: pass\n", {})
    after = [pool.submit("escape", GOOD, {"input": "x", "output": str(i)}) for i in range(5)]
    assert hang.result(timeout=30).kind == "timeout"
    results = [f.result(timeout=30) for f in after]
    assert [r.ok for r in results] == [True] * 5
    assert [r.passed for r in results] == [False] * 5


def test_in_a_batch_only_the_call_that_hangs_fails(pool: SandboxPool) -> None:
    hang = "def evaluate(output, **kw):\n    while output == 'hang':\n        pass\n    return True\n"
    outputs = ["a", "b", "hang", "c", "d"]
    futures = pool.submit_many("escape", hang, [{"output": o} for o in outputs])
    results = [f.result(timeout=30) for f in futures]
    assert [r.kind for r in results] == [None, None, "timeout", None, None], results


def test_state_does_not_leak_between_tenants(pool: SandboxPool) -> None:
    stash = "def evaluate(**kw):\n    import math\n    math.stash = 'tenant a'\n    return True\n"
    peek = "def evaluate(**kw):\n    import math\n    return (not hasattr(math, 'stash'), getattr(math, 'stash', ''))\n"
    assert pool.submit("tenant-a", stash, {}).result(timeout=30).ok
    seen = pool.submit("tenant-b", peek, {}).result(timeout=30)
    assert seen.ok and seen.passed is True and seen.reason == "", seen


def test_the_parent_survives(pool: SandboxPool) -> None:
    os.kill(os.getpid(), 0)  # still here after every signal attempt
    assert signal.getsignal(signal.SIGTERM) is not None
