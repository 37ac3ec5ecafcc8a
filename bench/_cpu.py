"""CPU time of the processes a benchmark started, however multiprocessing started them."""

from __future__ import annotations

import resource

import psutil


def workers_cpu() -> float:
    """CPU seconds of every process this one started: the joined ones (``RUSAGE_CHILDREN``), plus each living
    descendant's own and reaped children's CPU. Workers forked by the fork server are its children, not ours: they
    are counted in the server's reaped-children times once they exit."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    for kid in psutil.Process().children(recursive=True):
        try:
            t = kid.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total
