"""``edited`` rules: an article changed substantively after publication (a new version), with its diff.

``classes`` (any of headline_changed, lead_changed, number_changed,
quote_removed, attribution_changed, paragraph_added, paragraph_removed,
wording_changed, restored) and ``min_score`` pick which changes matter; the
message shows the removed and added lines.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch

from processing.alerts.evidence import Candidate, Window
from processing.alerts.rules import EditedRule
from processing.alerts.version_evidence import new_versions, version_candidate


def evaluate(es: Elasticsearch, alias: str, rule: EditedRule, window: Window) -> list[Candidate]:
    filters = [{"term": {"deleted": False}}, {"range": {"version": {"gt": 1}}},
               {"range": {"change_score": {"gte": rule.min_score}}}]
    if rule.classes:
        filters.append({"terms": {"change_classes": rule.classes}})
    candidates = []
    for version in new_versions(es, alias, rule, window, filters):
        classes = version.get("change_classes", [])
        summary = (f"edited: {', '.join(c.replace('_', ' ') for c in classes)} "
                   f"(version {version['version']}, score {version.get('change_score', 0):.2f})")
        candidates.append(version_candidate(rule, version, summary, {
            "version": version["version"], "changed_from": version.get("changed_from"), "change_classes": classes,
            "change_score": version.get("change_score"), "fetched_at": version.get("fetched_at")}))
    return candidates
