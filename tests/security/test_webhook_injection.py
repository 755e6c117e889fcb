"""Hostile titles cannot mass-mention or plant a disguised link in a Slack/Mattermost alert.

Real documents with hostile titles are indexed in the real node; ``mediamon
alerts run`` delivers them to a real webhook receiver on 127.0.0.1 and to a file
channel. The webhook payload must carry the titles as text Slack and Mattermost
display but do not act on; the file (and e-mail) text keeps them exactly as
scraped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main
from mediamon.core.settings import Settings
from tests.support.alerting import doc, index
from tests.support.recording_server import Recorder

HOOK = "/hooks/incoming"
TITLES = {"mention": "<!channel> ЕС должен заплатить", "label": "<https://evil.example|MFA statement> on Poland",
          "mattermost": "@all [MFA statement](https://evil.example) & more"}


@pytest.fixture
def receiver() -> Iterator[Recorder]:
    server = Recorder({HOOK: (200, {}, b"ok")})
    yield server
    server.close()


@pytest.fixture
def delivered(es_settings: Settings, es_admin, receiver: Recorder, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path) -> tuple[str, list[dict]]:
    """The webhook text and the file channel's lines for one hostile alert per title."""
    for name, value in {"INDEX_PREFIX": es_settings.index_prefix, "DATA_DIR": str(es_settings.data_dir),
                        "LOCAL_ES_DIR": str(es_settings.local_es_dir)}.items():
        monkeypatch.setenv(f"MEDIAMON_{name}", value)
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc(slug, title=title, narratives=["eu_must_pay"], alarmism_terms=["<!here>"],
                                      published=now - timedelta(minutes=10), indexed=now - timedelta(minutes=2))
                                  for slug, title in TITLES.items()])
    rules = tmp_path / "alerts.yaml"
    rules.write_text("defaults: {channels: [hook, file]}\nchannels:\n"
                     f"  hook: {{type: webhook, url: 'http://127.0.0.1:{receiver.port}{HOOK}'}}\n"
                     "  file: {type: file, path: out.jsonl}\n"
                     "rules:\n  - {id: pay, type: match, query: 'narratives:eu_must_pay'}\n")
    result = CliRunner().invoke(main, ["alerts", "run", "--rules", str(rules), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["delivered"] == 2 * len(TITLES)
    text = "\n".join(json.loads(r.body)["text"] for r in receiver.requests if r.path == HOOK)
    lines = [json.loads(line) for line in (es_settings.data_dir / "out.jsonl").read_text().splitlines()]
    return text, lines


def test_webhook_text_cannot_mention_or_disguise_a_link(delivered: tuple[str, list[dict]]) -> None:
    text, _ = delivered
    for active in ("<!channel>", "<!here>", "<https://evil.example|", "@all", "](https://evil.example)"):
        assert active not in text, f"{active!r} reached the chat unescaped"
    assert "&lt;!channel&gt; ЕС должен заплатить" in text  # shown, as text
    assert "&lt;https://evil.example|MFA statement&gt; on Poland" in text
    assert "@\u200ball [MFA statement]\u200b(https://evil.example) &amp; more" in text
    assert "https://tass-ru.example/mention" in text  # the document's own link still works


def test_file_and_email_text_keep_titles_as_scraped(delivered: tuple[str, list[dict]]) -> None:
    _, lines = delivered
    text = "\n".join(line["text"] for line in lines)
    assert all(title in text for title in TITLES.values())
