"""The stack's long-running processes: one process group each, a pid file each, stopped to the last child.

Why process groups: Elasticsearch starts a JVM under a launcher, Airflow components
fork supervisors and task runners, Celery forks its pool. Signalling the leader
alone leaves orphans; ``start_new_session`` makes each component its own group,
and stopping signals the whole group and waits until no member is left (checked
with ``/proc``, not just the leader's pid), so ``stack stop`` leaves no process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mediamon.devtools.localnode import _alive, _reap

log = logging.getLogger(__name__)


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def spawn(run_dir: Path, name: str, argv: Sequence[str], env: dict[str, str], log_file: Path,
          **popen: Any) -> int:
    """Start ``argv`` as its own process group, output appended to ``log_file``; returns its pid."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as out:
        proc = subprocess.Popen(list(argv), env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, **popen)
    pid_file(run_dir, name).write_text(str(proc.pid))
    return proc.pid


def read_pid(run_dir: Path, name: str) -> int | None:
    path = pid_file(run_dir, name)
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def running(run_dir: Path, name: str) -> int | None:
    """The pid of ``name`` when its process is alive, else None."""
    pid = read_pid(run_dir, name)
    return pid if pid is not None and _alive(pid) else None


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (zombies excluded), from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_group(pgid: int, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Signal the whole group; after ``timeout`` SIGKILL what is left; return when none is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        _reap(pgid)
        if time.monotonic() > deadline:
            log.warning("process group %d still alive after %ss; killing it", pgid, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.2)
    _reap(pgid)


def stop(run_dir: Path, name: str, timeout: float = 30, sig: int = signal.SIGTERM) -> bool:
    """Stop ``name``'s whole process group; True when something was running."""
    return bool(stop_all(run_dir, [name], timeout, sig))


def stop_all(run_dir: Path, names: Sequence[str], timeout: float = 30, sig: int = signal.SIGTERM) -> list[str]:
    """Signal every named group at once, then wait for each (SIGKILL after ``timeout``); returns those running."""
    groups = {name: pid for name in names if (pid := read_pid(run_dir, name)) is not None and group_members(pid)}
    for pid in groups.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
    for pid in groups.values():
        kill_group(pid, sig, timeout=timeout)
    for name in names:
        pid_file(run_dir, name).unlink(missing_ok=True)
    return list(groups)
