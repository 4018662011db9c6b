"""A seccomp allowlist built as a classic BPF program and installed with the `seccomp` system call.

No library is needed: the program is a few dozen instructions. Anything not listed returns EPERM; a call
through another ABI (x32 numbers, or 32-bit compat) kills the process, because the numbers would not mean
what the list says.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

# x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
X86_64 = {
    "read": 0,
    "write": 1,
    "close": 3,
    "mmap": 9,
    "mprotect": 10,
    "munmap": 11,
    "brk": 12,
    "rt_sigaction": 13,
    "rt_sigprocmask": 14,
    "rt_sigreturn": 15,
    "sched_yield": 24,
    "mremap": 25,
    "madvise": 28,
    "nanosleep": 35,
    "getpid": 39,
    "exit": 60,
    "gettimeofday": 96,
    "getrusage": 98,
    "times": 100,
    "getuid": 102,
    "getgid": 104,
    "geteuid": 107,
    "getegid": 108,
    "sigaltstack": 131,
    "gettid": 186,
    "time": 201,
    "futex": 202,
    "clock_gettime": 228,
    "clock_getres": 229,
    "clock_nanosleep": 230,
    "exit_group": 231,
    "prlimit64": 302,
    "getrandom": 318,
}
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

ALLOWED = tuple(name for name in X86_64 if name != "prlimit64")
"""What the request loop of a worker needs once it is locked down: pipe I/O, memory, signals, clocks, exit.
No call that takes a path is allowed (`newfstatat` and `fstat` would report files Landlock does not cover)."""

# BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
RET_KILL_PROCESS = 0x80000000
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_NR_SECCOMP_X86_64 = 317
_OFFSET_NR = 0
_OFFSET_ARCH = 4


def _arg_low(index: int) -> int:
    return 16 + 8 * index


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def build_program() -> list[bytes]:
    """The allowlist as BPF instructions (8 bytes each)."""
    deny = RET_ERRNO | errno.EPERM
    prog = [
        _insn(_LD_W_ABS, 0, 0, _OFFSET_ARCH),
        _insn(_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _insn(_RET_K, 0, 0, RET_KILL_PROCESS),
        _insn(_LD_W_ABS, 0, 0, _OFFSET_NR),
        _insn(_JGE_K, 0, 1, X32_SYSCALL_BIT),
        _insn(_RET_K, 0, 0, RET_KILL_PROCESS),
    ]
    for name in ALLOWED:
        prog.append(_insn(_JEQ_K, 0, 1, X86_64[name]))
        prog.append(_insn(_RET_K, 0, 0, RET_ALLOW))
    # prlimit64(0, resource, NULL, old): reading one's own limits (resource.getrlimit), never setting them.
    prog += [
        _insn(_JEQ_K, 0, 9, X86_64["prlimit64"]),
        _insn(_LD_W_ABS, 0, 0, _arg_low(0)),
        _insn(_JEQ_K, 0, 7, 0),
        _insn(_LD_W_ABS, 0, 0, _arg_low(0) + 4),
        _insn(_JEQ_K, 0, 5, 0),
        _insn(_LD_W_ABS, 0, 0, _arg_low(2)),
        _insn(_JEQ_K, 0, 3, 0),
        _insn(_LD_W_ABS, 0, 0, _arg_low(2) + 4),
        _insn(_JEQ_K, 0, 1, 0),
        _insn(_RET_K, 0, 0, RET_ALLOW),
        _insn(_RET_K, 0, 0, deny),
    ]
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def supported() -> str | None:
    """None when this machine can take the filter, else why not."""
    if platform.machine() != "x86_64":
        return f"the allowlist has syscall numbers for x86_64 only, not {platform.machine()}"
    return None


def install(libc: ctypes.CDLL) -> int:
    """Install the filter on every thread of the process (no_new_privs must already be set); its length."""
    why = supported()
    if why:
        raise OSError(errno.ENOSYS, why)
    program = b"".join(build_program())
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    rc = libc.syscall(_NR_SECCOMP_X86_64, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog))
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {errno.errorcode.get(err, err)}")
    return len(program) // 8
