"""Scoring extraction against ground truth: the article-extraction-benchmark's shingle F1."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def shingle_f1(extracted: str, truth: str) -> float:
    """4-gram shingle F1, the article-extraction-benchmark's body score."""
    a, b = shingles(extracted), shingles(truth)
    if not a or not b:
        return 0.0
    both = len(a & b)
    precision, recall = both / len(a), both / len(b)
    return 0.0 if not both else 2 * precision * recall / (precision + recall)


def read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def ground_truth(fixtures: Path, site: str) -> tuple[bytes, str, str]:
    """(page bytes, url, ground-truth body) of the benchmark page saved for ``site``."""
    truth_file = next((fixtures / site).glob("ground-truth.*.json"))
    entry = next(iter(json.loads(truth_file.read_text(encoding="utf-8")).values()))
    page = next((fixtures / site).glob("*.html.gz"))
    return read_page(page), entry["url"], entry["articleBody"]
