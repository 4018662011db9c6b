"""The worker's lockdown, in order: environment and descriptors, uid, namespaces, capabilities, Landlock,
rlimits, seccomp. Each step reports `ok…` or `unavailable: why`; the parent decides which are required."""

from __future__ import annotations

import ctypes
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass

from assay.sandbox import landlock, seccomp_filter

LAYERS = ("environment", "descriptors", "uid", "namespaces", "capabilities", "landlock", "rlimits", "seccomp")
"""Every layer a worker reports, in the order it applies them."""
NOBODY = 65534

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUTS = 0x04000000
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_NR_CAPGET = 125
_NR_CAPSET = 126
_CAP_VERSION_3 = 0x20080522
_SIGKILL = 9


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one worker."""

    memory_bytes: int = 512 << 20
    cpu_seconds: int = 300
    """A lifetime backstop: the parent's wall-clock limit per call ends runaway code long before."""


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _check(rc: int, what: str) -> int:
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return rc


def clear_environment() -> str:
    os.environ.clear()  # the parent passes none; Python's locale coercion may still have set LC_CTYPE
    return "ok (empty)"


def close_descriptors() -> str:
    os.closerange(3, 1 << 16)
    return "ok (stdin, stdout, stderr only)"


def drop_uid() -> str:
    if os.getuid() == 0 or os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    uid = os.getuid()
    if 0 in os.getresuid() or 0 in os.getresgid():
        raise OSError("still root after setresuid")
    libc = _libc()
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # no ptrace or /proc/<pid>/mem by other processes of this uid
    libc.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)  # after setresuid, which clears it
    return f"ok (uid {uid})"


def unshare_namespaces() -> str:
    flags = _CLONE_NEWUSER | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    _check(_libc().unshare(flags), "unshare")
    return "ok (user, network, ipc, uts)"


def drop_capabilities() -> str:
    libc = _libc()
    for cap in range(64):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            break  # past the last capability (EINVAL), or no CAP_SETPCAP when no namespace was made
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.syscall(_NR_CAPSET, header, data), "capset")
    _check(libc.syscall(_NR_CAPGET, header, data), "capget")
    if any(data):
        raise OSError("capabilities remain after capset")
    return "ok (none)"


def restrict_filesystem() -> str:
    abi = landlock.deny_everything(_libc())
    return f"ok (abi {abi}: no file, no TCP" + (", no signals out)" if abi >= 6 else ")")


def set_rlimits(limits: Limits) -> str:
    pairs = [
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_NPROC, 0),
        (resource.RLIMIT_NOFILE, 3),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
        (resource.RLIMIT_MSGQUEUE, 0),
    ]
    for which, value in pairs:
        resource.setrlimit(which, (value, value))
    return f"ok (address space {limits.memory_bytes >> 20} MiB, cpu {limits.cpu_seconds} s, no processes or files)"


def install_seccomp() -> str:
    libc = _libc()
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")  # already set by Landlock
    count = seccomp_filter.install(libc)
    return f"ok ({len(seccomp_filter.ALLOWED)} syscalls allowed, {count} BPF instructions)"


def lock_down(limits: Limits, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """Apply every layer not in `skip`; returns each layer's status. Never raises."""
    steps: list[tuple[str, Callable[[], str]]] = [
        ("environment", clear_environment),
        ("descriptors", close_descriptors),
        ("uid", drop_uid),
        ("namespaces", unshare_namespaces),
        ("capabilities", drop_capabilities),
        ("landlock", restrict_filesystem),
        ("rlimits", lambda: set_rlimits(limits)),
        ("seccomp", install_seccomp),
    ]
    report: dict[str, str] = {}
    for name, step in steps:
        if name in skip:
            report[name] = "unavailable: disabled by configuration"
            continue
        try:
            report[name] = step()
        except Exception as exc:  # a layer the kernel refuses is reported, and the parent decides
            report[name] = f"unavailable: {exc}"
    return report
