"""The mirror as the demo and Airflow start it: `python -m mediamon.devtools.mirror --port N`."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

from crawlers.rewrite import parse_rules, rewrite
from tests.support.paths import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mirror_cli_serves_the_sites_behind_the_rewrite_it_prints() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mediamon.devtools.mirror", "--port", str(port)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"mirror on http://127.0.0.1:{port}"
        rules = parse_rules(proc.stdout.readline().strip().removeprefix("MEDIAMON_URL_REWRITE="))
        feed = rewrite("http://kremlin.ru/events/all/feed/", rules)
        assert feed == f"http://127.0.0.1:{port}/kremlin.ru/events/all/feed/"
        # faults are off: a library User-Agent is served, as the demo needs
        with urllib.request.urlopen(feed, timeout=10) as response:
            body = response.read()
        assert response.status == 200 and b"<feed xmlns=\"http://www.w3.org/2005/Atom\">" in body
        assert b"http://kremlin.ru/events/president/news/" in body  # links are the real site's
    finally:
        proc.terminate()
        proc.wait(timeout=10)
