"""A stack component is a process group: stopping it leaves none of its children, even one ignoring SIGTERM."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mediamon.devtools.stack import procs

# a parent that forks a child which ignores SIGTERM, both sleeping forever
STUBBORN_FAMILY = (
    "import os, signal, time\n"
    "if os.fork() == 0:\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "    print('child', os.getpid(), flush=True)\n"
    "time.sleep(600)\n"
)


def test_stop_ends_the_whole_group_and_forgets_the_pid(tmp_path: Path) -> None:
    log = tmp_path / "family.log"
    pid = procs.spawn(tmp_path, "family", [sys.executable, "-c", STUBBORN_FAMILY], {}, log)
    deadline = time.monotonic() + 10
    while "child" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(log.read_text().split()[1])
    assert set(procs.group_members(pid)) == {pid, child}
    assert procs.running(tmp_path, "family") == pid

    assert procs.stop(tmp_path, "family", timeout=1) is True
    assert procs.group_members(pid) == [] and procs.running(tmp_path, "family") is None
    assert not procs.pid_file(tmp_path, "family").exists()
    assert procs.stop(tmp_path, "family") is False  # nothing left to stop
