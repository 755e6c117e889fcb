"""The real stack for tests/stack: started once per session, stopped at the end even on failure.

Every test here is marked ``stack`` and runs only when asked for (``pytest -m stack``;
.ci/run does, with a time bound and a trap that stops the stack): a full start is
minutes of CPU on a two-core machine. The stack lives in ``MEDIAMON_STACK_DIR``
(or next to the local node's directory, which is world-searchable), wiped at the
start of a session and kept after it for its logs.
"""

from __future__ import annotations

import atexit
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from mediamon.devtools.stack import control
from mediamon.ops.setup import setup_cluster
from tests.support.stack import AirflowAPI, stack_config


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    wanted = "stack" in (config.getoption("markexpr") or "")
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.stack)
            if not wanted:
                item.add_marker(pytest.mark.skip(reason="needs the full stack: pytest -m stack (.ci/run runs it)"))


def _stack_dir() -> Path:
    settings = Settings()
    assert settings.stack_dir is not None and settings.local_es_dir is not None
    if os.environ.get("MEDIAMON_STACK_DIR"):
        return settings.stack_dir
    return settings.local_es_dir.with_name(f"{settings.local_es_dir.name}-stack")


def _setup(settings: Settings) -> None:
    setup_cluster(make_client(settings), settings)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings of a freshly started stack (its own config/ with a few sources)."""
    root = _stack_dir()
    base = Settings(stack_dir=root, config_dir=root / "config")
    control.stop(base)  # a crashed earlier session's processes
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    root.chmod(0o755)
    stack_config(root / "config")
    stopped = []

    def stop() -> None:
        if not stopped:
            stopped.append(True)
            control.stop(base)

    atexit.register(stop)
    request.addfinalizer(stop)
    control.start(base, _setup)
    yield base


@pytest.fixture(scope="session")
def client(stack: Settings) -> Settings:
    """Settings of a mediamon client of the stack's cluster (admin credentials, its archive)."""
    return control.client_settings(stack)


@pytest.fixture(scope="session")
def cluster(client: Settings) -> Elasticsearch:
    return make_client(client)


@pytest.fixture(scope="session")
def airflow(stack: Settings) -> AirflowAPI:
    return AirflowAPI(stack)
