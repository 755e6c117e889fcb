"""Settings: environment first, then the local node's credentials file — never sent elsewhere."""

from __future__ import annotations

import pytest

from mediamon.core.settings import load_settings


def _write_local(tmp_path, url="http://127.0.0.1:9999", password="local-secret"):
    es_dir = tmp_path / "es"
    es_dir.mkdir()
    (es_dir / "credentials.env").write_text(
        f"MEDIAMON_ES_URL={url}\nMEDIAMON_ES_USERNAME=elastic\nMEDIAMON_ES_PASSWORD={password}\n")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in ("MEDIAMON_ES_URL", "MEDIAMON_ES_USERNAME", "MEDIAMON_ES_PASSWORD", "MEDIAMON_ES_API_KEY",
                "MEDIAMON_LOCAL_ES_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_local_credentials_fill_unset_values(clean_env, tmp_path):
    _write_local(tmp_path)
    settings = load_settings()
    assert settings.es_url == "http://127.0.0.1:9999"
    assert settings.es_password.get_secret_value() == "local-secret"


def test_local_password_is_never_applied_to_another_cluster(clean_env, tmp_path, monkeypatch):
    _write_local(tmp_path)
    monkeypatch.setenv("MEDIAMON_ES_URL", "https://es.example.org:9200")
    settings = load_settings()
    assert settings.es_url == "https://es.example.org:9200"
    assert settings.es_password is None


def test_environment_wins_over_local_file(clean_env, tmp_path, monkeypatch):
    _write_local(tmp_path)
    monkeypatch.setenv("MEDIAMON_ES_PASSWORD", "from-env")
    assert load_settings().es_password.get_secret_value() == "from-env"


def test_secrets_do_not_show_in_repr(clean_env, tmp_path):
    _write_local(tmp_path, password="do-not-print-me")
    assert "do-not-print-me" not in repr(load_settings())


def test_dotenv_file_in_working_directory_is_read(clean_env, tmp_path):
    (tmp_path / ".env").write_text("MEDIAMON_INDEX_PREFIX=fromdotenv\n")
    assert load_settings().index_prefix == "fromdotenv"
