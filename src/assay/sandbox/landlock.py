"""Landlock: a ruleset that handles every filesystem right (and TCP and scopes where the kernel has them)
and grants none, so the process can open no file, bind or connect no TCP socket, and signal nothing outside."""

from __future__ import annotations

import ctypes
import errno
import os

_NR_CREATE_RULESET = 444
_NR_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_PR_SET_NO_NEW_PRIVS = 38


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


def abi_version(libc: ctypes.CDLL) -> int:
    """The kernel's Landlock ABI (0 when Landlock is absent or disabled)."""
    version = libc.syscall(_NR_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    return int(version) if version > 0 else 0


def _handled(abi: int) -> tuple[_RulesetAttr, int]:
    fs = (1 << 13) - 1  # ABI 1: execute, write, read, readdir, remove, make_* (13 rights)
    if abi >= 2:
        fs |= 1 << 13  # refer
    if abi >= 3:
        fs |= 1 << 14  # truncate
    if abi >= 5:
        fs |= 1 << 15  # ioctl on devices
    net = 0b11 if abi >= 4 else 0  # bind and connect TCP
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets and signals
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    return _RulesetAttr(fs, net, scoped), size


def deny_everything(libc: ctypes.CDLL) -> int:
    """Restrict the calling process; returns the ABI used. Sets no_new_privs, which Landlock requires."""
    abi = abi_version(libc)
    if abi < 1:
        raise OSError(errno.EOPNOTSUPP, "Landlock is not supported by this kernel (or is disabled)")
    attr, size = _handled(abi)
    fd = libc.syscall(_NR_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if libc.syscall(_NR_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return abi
