"""``python -m mediamon.devtools.mirror --port N``: serve the sample sites until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from mediamon.devtools.mirror.server import MirrorServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mediamon.devtools.mirror", description=__doc__)
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus directory (default: the bundled one)")
    parser.add_argument("--faults", action="store_true", help="serve the misbehaviour too (403s, resets, ...)")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server = MirrorServer(args.corpus, faults=args.faults, host=args.host, port=args.port)
    except OSError as exc:  # the port is taken (or not ours to bind): say which knob picks another
        sys.exit(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}; choose a free port with "
                 "--port (make airflow / scripts/airflow-standalone.sh: MEDIAMON_MIRROR_PORT)")
    with server as mirror:
        print(f"mirror on {mirror.base_url}", flush=True)
        print(f"MEDIAMON_URL_REWRITE={mirror.url_rewrite()}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
