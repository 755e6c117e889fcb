"""Shared test fixtures: a real Elasticsearch node and isolated index prefixes.

The node is the project's own local node (`mediamon es start`), started here if
it is not running. Each test that indexes gets its own index prefix, so tests
never see each other's documents, and its indices are deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from hypothesis import settings as hypothesis_settings

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings, load_settings
from mediamon.devtools import localnode
from mediamon.devtools.mirror.server import MirrorServer
from processing.store.indexsetup import setup
from tests.support.es import drop_prefix
from tests.support.paths import REAL_FIXTURES

# The property tests draw the same examples on every run and machine (hypothesis does so by itself only when it
# recognises a CI service), so `make test` never goes red by the luck of the draw; exploring is its own run:
# HYPOTHESIS_PROFILE=explore pytest tests/reliability
hypothesis_settings.register_profile("mediamon", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)  # new examples each run
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mediamon"))


@pytest.fixture(scope="session")
def es_base_settings() -> Settings:
    """Settings of the running local node (started once per session if needed)."""
    settings = load_settings()
    if not settings.es_url or not localnode.is_local(settings):
        localnode.start(settings)
        settings = load_settings()
    return settings


@pytest.fixture(scope="session")
def es_admin(es_base_settings: Settings) -> Elasticsearch:
    return make_client(es_base_settings)


@pytest.fixture
def es_settings(es_base_settings: Settings, es_admin: Elasticsearch, tmp_path: Path) -> Iterator[Settings]:
    """Settings with a fresh index prefix and data dir for one test; template and alias set up."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings = es_base_settings.model_copy(update={"index_prefix": prefix, "data_dir": tmp_path / "data"})
    settings.data_dir.mkdir()
    setup(es_admin, settings, with_roles=False)  # role tests set up their own
    yield settings
    drop_prefix(es_admin, prefix)


@pytest.fixture(scope="session")
def second_es_node(es_base_settings: Settings) -> Iterator[Settings]:
    """A second local node for tests that stop or restart Elasticsearch (never stop the main node).

    Its directory sits next to the main node's and is kept between sessions, so the
    distribution is unpacked once; the node is stopped when the session ends.
    """
    base = es_base_settings.local_es_dir.parent / "es-second"
    base.mkdir(mode=0o755, exist_ok=True)
    settings = es_base_settings.model_copy(update={"local_es_dir": base, "es_url": None, "es_password": None})
    yield settings
    localnode.stop(settings)


@pytest.fixture
def real_fixtures() -> Path:
    if not REAL_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures/real is absent")
    return REAL_FIXTURES


@pytest.fixture(scope="module")
def mirror() -> Iterator[MirrorServer]:
    """The mirror of the sample sites on 127.0.0.1, with its transient faults on."""
    with MirrorServer(faults=True) as server:
        yield server


# Fixtures that need the real Elasticsearch node: a test using any of them is marked `es`,
# so `pytest -m "not es"` runs the pure tests without starting a node.
ES_FIXTURES = {"es_base_settings", "es_admin", "es_settings", "second_es_node"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.es)
