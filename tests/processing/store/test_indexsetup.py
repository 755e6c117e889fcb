"""`mediamon setup` against the real node: template, alias, mapping, rollover — and idempotence."""

from __future__ import annotations

import time

from mediamon.core.document import Document
from processing.dedup import find_candidates, fingerprint_document
from processing.store.bulk import DeadLetter, index_documents
from processing.store.indexsetup import FIELD_MAPPINGS, detect_capabilities, rollover, setup
from tests.support.documents import make_document


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
    # fewer, bigger segments keep near-duplicate lookups cheap (MERGE_POLICY's comment)
    policy = es_admin.indices.get_settings(index=index)[index]["settings"]["index"]["merge"]["policy"]
    assert policy == {"type": "tiered", "segments_per_tier": "2", "floor_segment": "128mb"}


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


def test_rollover_retires_a_merged_index_that_searches_and_dedup_still_see(es_admin, es_settings):
    docs = [fingerprint_document(make_document(n, paragraphs=12)) for n in range(30)]
    dl = DeadLetter(es_settings.deadletter_dir)
    for at in range(0, 30, 10):  # three refreshes: the retired index starts with several segments
        index_documents(es_admin, es_settings.docs_alias, docs[at:at + 10], dl)
        es_admin.indices.refresh(index=es_settings.docs_alias)
    assert rollover(es_admin, es_settings) is None  # default conditions: a fresh index is neither old nor big

    retired = rollover(es_admin, es_settings, conditions={"max_docs": 10})
    assert retired is not None
    aliases = es_admin.indices.get_alias(name=es_settings.docs_alias).body
    writers = [name for name, a in aliases.items() if a["aliases"][es_settings.docs_alias].get("is_write_index")]
    assert len(aliases) == 2 and writers != [retired] and len(writers) == 1
    assert es_admin.count(index=es_settings.docs_alias)["count"] == 30
    copy = docs[3].model_copy(update={"url": "https://rt.example/copy", "canonical_url": "https://rt.example/copy"})
    assert copy.id != docs[3].id
    assert docs[3].id in {m.id for m in find_candidates(es_admin, es_settings.docs_alias, [copy])[copy.id]}
    deadline = time.monotonic() + 60
    while len(es_admin.cat.segments(index=retired, format="json").body) != 1:
        assert time.monotonic() < deadline, "the retired index was not merged to one segment"
        time.sleep(0.5)
        es_admin.indices.refresh(index=retired)
    report = setup(es_admin, es_settings, with_roles=False)
    assert "rollover" in report.unchanged  # a second setup does not roll the new write index over


def test_setup_adds_new_document_fields_to_an_index_created_before_them(es_admin, es_settings):
    """An upgraded deployment: its write index predates a field; setup adds it so documents are not rejected."""
    alias = es_settings.docs_alias
    index = next(iter(es_admin.indices.get_alias(name=alias).body))
    old = f"{es_settings.index_prefix}-legacy-000001"  # outside the template's pattern: the old mapping stays
    es_admin.indices.update_aliases(actions=[{"remove": {"index": index, "alias": alias}}])
    old_fields = {name: spec for name, spec in FIELD_MAPPINGS.items() if name != "lemmas"}
    es_admin.indices.create(index=old, mappings={"dynamic": "strict", "properties": old_fields},
                            aliases={alias: {"is_write_index": True}})

    report = setup(es_admin, es_settings, with_roles=False)

    assert "mapping (+lemmas)" in report.changed
    counts = index_documents(es_admin, alias, [make_document(7001, lemmas="граница мигрант")],
                             DeadLetter(es_settings.deadletter_dir))
    assert counts.failed == 0 and counts.created == 1
    assert "mapping" in setup(es_admin, es_settings, with_roles=False).unchanged
