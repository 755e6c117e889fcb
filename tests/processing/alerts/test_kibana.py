"""Kibana saved objects: current format (Lens, migration versions), they hang together, use real fields,
and their queries validate in ES."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from processing.changes.versions import MAPPING as VERSION_MAPPING
from processing.changes.versions import ensure_index as ensure_versions_index
from processing.changes.versions import versions_index
from processing.store.indexsetup import FIELD_MAPPINGS
from processing.store.kibana import DATA_VIEW_ID, import_saved_objects, load_saved_objects
from processing.stories import storyindex
from tests.support.paths import REPO

FILES = sorted((REPO / "config" / "kibana").glob("*.ndjson"))
OBJECTS = [obj for path in FILES for obj in load_saved_objects(path)]
NARRATIVES = re.findall(r"^  - id: (\S+)", (REPO / "config" / "narratives.yaml").read_text(), re.M)
AGGREGATABLE = {name for name, spec in FIELD_MAPPINGS.items() if spec.get("type") in {"keyword", "date", "float"}}
RECORDS = "___records___"  # Lens's pseudo-field of a count
VERSION = re.compile(r"\d+\.\d+\.\d+")
VERSIONS_VIEW = "mediamon-versions"
STORIES_VIEW = "mediamon-stories"
LENS_TYPES = {"lnsXY", "lnsPie", "lnsDatatable", "lnsMetric"}


def by_type(kind: str) -> list[dict]:
    return [o for o in OBJECTS if o["type"] == kind]


def search_query(obj: dict) -> dict:
    return json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]


def test_objects_parse_and_ids_are_unique():
    assert FILES and OBJECTS
    ids = [(o["type"], o["id"]) for o in OBJECTS]
    assert len(ids) == len(set(ids))
    for obj in OBJECTS:  # the JSON-in-a-string attributes parse too
        for name in ("visState", "uiStateJSON", "panelsJSON", "optionsJSON"):
            if name in obj["attributes"]:
                json.loads(obj["attributes"][name])
        if "kibanaSavedObjectMeta" in obj["attributes"]:
            json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def test_objects_are_in_the_current_saved_object_format():
    """Migration versions tell Kibana which migrations still apply; legacy visualisations are gone for Lens."""
    for obj in OBJECTS:
        assert VERSION.fullmatch(obj.get("coreMigrationVersion", "")), obj["id"]
        assert VERSION.fullmatch(obj.get("typeMigrationVersion", "")), obj["id"]
        assert "migrationVersion" not in obj, obj["id"]
    assert not by_type("visualization")
    assert by_type("lens")


def test_every_reference_points_at_an_object_in_the_set():
    known = {(o["type"], o["id"]) for o in OBJECTS}
    for obj in OBJECTS:
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in known, (obj["id"], ref)
    [dashboard] = by_type("dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    # Kibana 8+ names a panel's reference "<panelIndex>:<panelRefName>"
    assert {(f"{p['panelIndex']}:{p['panelRefName']}", p["type"]) for p in panels} == \
        {(r["name"], r["type"]) for r in dashboard["references"]}
    assert {p["type"] for p in panels} == {"lens", "search"}


def test_data_view_is_on_the_alias_with_its_time_field():
    views = {v["id"]: (v["attributes"]["title"], v["attributes"]["timeFieldName"]) for v in by_type("index-pattern")}
    assert views == {DATA_VIEW_ID: ("mediamon-docs", "published_at"),
                     VERSIONS_VIEW: ("mediamon-versions", "fetched_at"),
                     STORIES_VIEW: ("mediamon-stories", "first_at")}


def test_a_saved_search_per_narrative_and_one_for_recent_alarmist_documents():
    queries = {search_query(o)["query"] for o in by_type("search")}
    assert {f"narratives:{n}" for n in NARRATIVES} <= queries
    assert any("alarmism:>=" in q and "now-24h" in q for q in queries)


def test_dashboard_shows_the_analysts_panels():
    [dashboard] = by_type("dashboard")
    titles = {o["attributes"]["title"] for o in OBJECTS if (o["type"], o["id"]) in
              {(r["type"], r["id"]) for r in dashboard["references"]}}
    assert titles == {"Volume per source over time", "Narratives over time", "Language split", "Top speakers",
                      "Top alarmist documents"}


def test_lens_panels_aggregate_on_aggregatable_fields_of_the_data_view():
    for lens in by_type("lens"):
        attributes = lens["attributes"]
        assert attributes["visualizationType"] in LENS_TYPES, lens["id"]
        layers = attributes["state"]["datasourceStates"]["formBased"]["layers"]
        refs = {r["name"]: r for r in lens["references"]}
        for layer_id, layer in layers.items():
            ref = refs[f"indexpattern-datasource-layer-{layer_id}"]
            assert (ref["type"], ref["id"]) == ("index-pattern", DATA_VIEW_ID), lens["id"]
            assert set(layer["columnOrder"]) == set(layer["columns"]), lens["id"]
            for column in layer["columns"].values():
                field = column["sourceField"]
                assert field == RECORDS if column["operationType"] == "count" else field in AGGREGATABLE, \
                    (lens["id"], field)
        # every column the chart draws is one the layer computes
        visualization = json.dumps(attributes["state"]["visualization"])
        drawn = set(re.findall(r'"(?:xAccessor|splitAccessor|columnId)": "([^"]+)"', visualization))
        drawn |= {a for layer in attributes["state"]["visualization"].get("layers", [])
                  for key in ("accessors", "primaryGroups", "metrics") for a in layer.get(key, [])}
        assert drawn and drawn <= {c for layer in layers.values() for c in layer["columns"]}, lens["id"]


def test_every_saved_search_query_is_valid_against_the_real_index(es_settings, es_admin):
    searches = by_type("search")
    assert searches
    ensure_versions_index(es_admin, es_settings)
    storyindex.ensure_index(es_admin, es_settings)
    for obj in searches:
        query = search_query(obj)
        assert query["language"] == "lucene", obj["id"]
        view = obj["references"][0]["id"]
        fields, index = {VERSIONS_VIEW: (VERSION_MAPPING["properties"], versions_index(es_settings)),
                         STORIES_VIEW: (storyindex.MAPPING["properties"], storyindex.stories_index(es_settings))
                         }.get(view, (FIELD_MAPPINGS, es_settings.docs_alias))
        for field in re.findall(r"([a-z_]+):", query["query"]):
            assert field in fields, f"{obj['id']}: unknown field {field}"
        resp = es_admin.indices.validate_query(index=index, explain=True,
                                               query={"query_string": {"query": query["query"]}})
        assert resp["valid"], (obj["id"], resp.get("explanations"))


def test_a_broken_query_does_not_validate(es_settings, es_admin):
    """The check above can fail: Elasticsearch rejects malformed Lucene."""
    resp = es_admin.indices.validate_query(index=es_settings.docs_alias,
                                           query={"query_string": {"query": "alarmism:>=0.5 AND (narratives:"}})
    assert not resp["valid"]


def test_import_posts_each_file_for_this_deployments_alias(es_settings):
    received: list[tuple[str, dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"success": True, "successCount": 18}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = es_settings.model_copy(update={"kibana_url": f"http://127.0.0.1:{server.server_port}",
                                                  "config_dir": REPO / "config"})
        report = import_saved_objects(settings)
    finally:
        server.shutdown()
        server.server_close()
    assert report.files == [p.name for p in FILES] and report.objects == 18 * len(FILES)
    path, headers, body = received[0]
    assert path == "/api/saved_objects/_import?overwrite=true" and headers["kbn-xsrf"]
    assert headers["Authorization"].startswith("Basic ")
    assert f'"title": "{es_settings.docs_alias}"'.encode() in body and b'"title": "mediamon-docs"' not in body
    versions_body = next(b for _, _, b in received if b'"mediamon article versions"' in b)
    assert f'"title": "{versions_index(es_settings)}"'.encode() in versions_body
