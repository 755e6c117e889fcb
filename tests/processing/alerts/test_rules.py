"""The rules file: the seeded config loads, and a bad file names file, rule and field."""

from __future__ import annotations

import re

import pytest

from processing.alerts.rules import RulesError, load_alert_rules
from tests.support.paths import REPO


def test_seeded_rules_cover_every_rule_type():
    cfg = load_alert_rules(REPO / "config" / "alerts.yaml")
    assert {r.type for r in cfg.rules} == {"match", "threshold", "spike", "new_term", "flatline", "edited",
                                          "deleted", "coordinated_push"}


def test_missing_file_means_no_rules(tmp_path):
    assert load_alert_rules(tmp_path / "absent.yaml").rules == []


def test_empty_rule_list_is_valid(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules: []\n")
    assert load_alert_rules(path).active_rules == []


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n- {id: burst, type: threshold, window: soon, above: 3}\n", ["rule 'burst'", "'window'", "duration"]),
    ("rules:\n- {id: burst, type: threshold, window: 1h}\n", ["rule 'burst'", "exactly one of above or below"]),
    ("rules:\n- {id: x, type: match, colour: red}\n", ["rule 'x'", "'colour'"]),
    ("rules:\n- {id: x, type: nonsense}\n", ["rule 'x'", "type"]),
    ("rules:\n- {id: x, type: match, channels: [pager]}\n", ["x: channel 'pager' is not defined"]),
    ("rules:\n- {id: a, type: match}\n- {id: a, type: match}\n", ["'a' is used twice"]),
    ("channels:\n  hook: {type: webhook}\n", ["channel 'hook'", "exactly one of url or url_env"]),
    ("rules: [1, 2\n", ["not valid YAML"]),
])
def test_bad_file_names_file_rule_and_field(tmp_path, text, expected):
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(RulesError) as err:
        load_alert_rules(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_seeded_rule_queries_are_valid_against_the_real_index(es_settings, es_admin):
    from processing.alerts.evidence import rule_query
    from processing.store.indexsetup import FIELD_MAPPINGS

    for rule in load_alert_rules(REPO / "config" / "alerts.yaml").rules:
        for name in re.findall(r"([a-z_]+):", rule.query):
            assert name in FIELD_MAPPINGS, f"{rule.id}: unknown field {name}"
        for name in (getattr(rule, "group_by", None), getattr(rule, "field", None)):
            assert name is None or FIELD_MAPPINGS[name]["type"] == "keyword", (rule.id, name)
        resp = es_admin.indices.validate_query(index=es_settings.docs_alias, query=rule_query(rule), explain=True)
        assert resp["valid"], (rule.id, resp.get("explanations"))
