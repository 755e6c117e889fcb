"""URL rules: canonical keys, rewrite matching, the SSRF address check."""

from __future__ import annotations

import pytest

from crawlers.canonical import canonical_url
from crawlers.middlewares.guard import forbidden_address
from crawlers.rewrite import RewriteRulesError, parse_rules, rewrite


@pytest.mark.parametrize("variant", [
    "https://ria.ru/20211108/granitsa-1758145.html",
    "https://ria.ru/amp/20211108/granitsa-1758145.html",
    "https://ria.ru/20211108/granitsa-1758145-print.html",
    "https://ria.ru/20211108/granitsa-1758145.html?utm_source=yxnews&utm_medium=desktop#comments",
    "https://RIA.ru/20211108/granitsa-1758145.html?from=rss",
])
def test_variants_of_one_article_share_a_canonical_url(variant: str) -> None:
    assert canonical_url(variant) == "https://ria.ru/20211108/granitsa-1758145.html"


def test_meaningful_query_parameters_are_kept() -> None:
    assert canonical_url("https://mid.ru/ru/foreign_policy/news/?PAGEN_1=2") != \
        canonical_url("https://mid.ru/ru/foreign_policy/news/?PAGEN_1=3")


def test_rewrite_matches_on_url_boundaries_only() -> None:
    rules = parse_rules("http://kremlin.ru=http://127.0.0.1:9/kremlin.ru https://tass.ru=http://127.0.0.1:9/tass.ru")
    assert rewrite("http://kremlin.ru/events/all/feed/", rules) == "http://127.0.0.1:9/kremlin.ru/events/all/feed/"
    assert rewrite("http://kremlin.ru.example.net/x", rules) is None
    assert rewrite("https://tass.ru", rules) == "http://127.0.0.1:9/tass.ru"
    with pytest.raises(RewriteRulesError, match="PREFIX=REPLACEMENT"):
        parse_rules("tass.ru")


@pytest.mark.parametrize(("ip", "forbidden"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.1", True), ("169.254.169.254", True), ("::1", True),
    ("fe80::1", True), ("0.0.0.0", True), ("95.173.136.70", False), ("2a00:1450:4010::1", False)])
def test_private_loopback_link_local_and_metadata_addresses_are_forbidden(ip: str, forbidden: bool) -> None:
    assert forbidden_address(ip) is forbidden
