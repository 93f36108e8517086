"""Facts about this process that hosts report (see ``HostStatus``)."""

from __future__ import annotations

import os
import socket

__all__ = ["node_name", "resident_bytes"]


def node_name() -> str:
    return socket.gethostname()


def resident_bytes() -> int | None:
    """This process's resident set in bytes, from ``/proc`` (``None`` where there is none)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")
