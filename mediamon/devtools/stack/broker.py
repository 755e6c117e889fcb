"""The Celery broker: Debian's ``redis-server``, password-protected, on 127.0.0.1.

Append-only persistence is on, so queued task messages survive a Redis restart
(tests/stack: the Redis fault) instead of depending on the scheduler to notice
them lost.
"""

from __future__ import annotations

import os
import shutil
import time

import redis

from mediamon.core.errors import OperationFailed
from mediamon.devtools.stack import procs
from mediamon.devtools.stack.layout import StackLayout

READY_TIMEOUT_S = 30


class BrokerError(OperationFailed):
    """Redis could not be started; the message says what to install or read."""


def broker_url(port: int, password: str) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0"


def start(layout: StackLayout, port: int, password: str) -> None:
    exe = shutil.which("redis-server")
    if exe is None:
        raise BrokerError("redis-server is not installed; apt-get install redis-server")
    layout.redis_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = layout.redis_dir / "redis.conf"
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the password
    with os.fdopen(fd, "w") as fh:
        fh.write(f"bind 127.0.0.1\nport {port}\nprotected-mode yes\nrequirepass {password}\n"
                 f"dir {layout.redis_dir}\nappendonly yes\nappendfsync everysec\ndaemonize no\n"
                 "save \"\"\n")
    if procs.running(layout.run_dir, "redis") is None:
        procs.spawn(layout.run_dir, "redis", [exe, str(conf)], {"PATH": os.defpath},
                    layout.logs_dir / "redis.log")
    wait_ready(layout, port, password)


def wait_ready(layout: StackLayout, port: int, password: str, timeout: float = READY_TIMEOUT_S) -> None:
    client = redis.Redis.from_url(broker_url(port, password), socket_timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return
        except redis.RedisError:
            time.sleep(0.3)
    raise BrokerError(f"Redis did not answer on port {port}; see {layout.logs_dir}/redis.log")


def stop(layout: StackLayout) -> bool:
    return procs.stop(layout.run_dir, "redis")
