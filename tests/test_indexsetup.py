"""`mediamon setup` against the real node: template, alias, mapping — and idempotence."""

from __future__ import annotations

from mediamon.document import Document
from processing.indexsetup import FIELD_MAPPINGS, detect_capabilities, setup


def test_mapping_covers_exactly_the_document_model():
    assert set(FIELD_MAPPINGS) == set(Document.model_fields)


def test_setup_creates_template_and_write_alias(es_admin, es_settings):
    template = es_admin.indices.get_index_template(name=es_settings.docs_alias)["index_templates"][0]
    props = template["index_template"]["template"]["mappings"]["properties"]
    assert props["source"]["type"] == "keyword"
    assert props["text"]["type"] == "text"
    assert props["lemmas"]["analyzer"] == "whitespace"
    aliases = es_admin.indices.get_alias(name=es_settings.docs_alias).body
    assert len(aliases) == 1
    (index, info), = aliases.items()
    assert index.startswith(f"{es_settings.docs_alias}-") and index.endswith("-000001")
    assert info["aliases"][es_settings.docs_alias]["is_write_index"] is True


def test_setup_twice_changes_nothing(es_admin, es_settings):
    before = es_admin.indices.get_index_template(name=es_settings.docs_alias)["index_templates"][0]
    report = setup(es_admin, es_settings, with_roles=False)
    assert report.changed == []
    assert set(report.unchanged) >= {"index template", "write alias"}
    after = es_admin.indices.get_index_template(name=es_settings.docs_alias)["index_templates"][0]
    assert before == after
    assert len(es_admin.indices.get_alias(name=es_settings.docs_alias).body) == 1


def test_minimal_build_is_detected_and_falls_back(es_admin, es_settings):
    caps = detect_capabilities(es_admin)
    template = es_admin.indices.get_index_template(name=es_settings.docs_alias)["index_templates"][0]
    title = template["index_template"]["template"]["mappings"]["properties"]["title"]
    # language sub-fields exist exactly when the cluster has the analyzers
    assert ("ru" in title.get("fields", {})) == caps.language_analyzers
    if not caps.language_analyzers:
        assert any("analyzers" in w for w in caps.warnings)
