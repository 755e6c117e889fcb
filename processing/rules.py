"""Every processing rule from config/, loaded and validated once per process.

Why one loader: the worker processes of the runner and `mediamon extract` must
apply exactly the same rules; each file goes through its pydantic schema
(``mediamon.core.configfile``), so a bad file fails at load time with the file,
the entry and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mediamon.core.configfile import ConfigFileError, load_config
from processing.clean import compile_boilerplate
from processing.enrich import AlarmismFile, EnrichRules, NarrativesFile, SpeakersFile, compile_rules


class ExtractionRules(BaseModel):
    """config/extraction.yaml."""

    model_config = ConfigDict(extra="forbid")

    min_text_chars: int = Field(default=40, ge=1)
    # far above the longest real transcripts (a Valdai session: ~164,000 characters); reaching it is counted
    max_text_chars: int = Field(default=5_000_000, ge=1000)
    max_title_chars: int = Field(default=1000, ge=50)
    max_lead_chars: int = Field(default=5000, ge=100)
    challenge_markers: list[str] = []
    boilerplate: list[str] = []
    # words a page prints before its publication time ("Publication date", "Дата публикации")
    published_labels: list[str] = []


@dataclass(frozen=True)
class ProcessingRules:
    extraction: ExtractionRules
    boilerplate: list[re.Pattern[str]]
    enrich: EnrichRules


def load_processing_rules(config_dir: Path) -> ProcessingRules:
    extraction = load_config(config_dir / "extraction.yaml", ExtractionRules)
    try:
        boilerplate = compile_boilerplate(extraction.boilerplate)
    except re.error as exc:
        raise ConfigFileError(f"{config_dir / 'extraction.yaml'}: boilerplate: bad pattern: {exc}") from exc
    return ProcessingRules(
        extraction=extraction,
        boilerplate=boilerplate,
        enrich=compile_rules(load_config(config_dir / "speakers.yaml", SpeakersFile),
                             load_config(config_dir / "narratives.yaml", NarrativesFile),
                             load_config(config_dir / "alarmism.yaml", AlarmismFile)),
    )
