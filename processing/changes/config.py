"""config/changes.yaml: cosmetic rules, soft-404 markers, change classes and their weights."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mediamon.core.configfile import ConfigFileError, load_config

CHANGES_FILE = "changes.yaml"
CLASSES = ("headline_changed", "lead_changed", "number_changed", "quote_removed", "attribution_changed",
           "paragraph_removed", "paragraph_added", "wording_changed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cosmetic(_Strict):
    remove: list[str] = []
    typography: bool = True
    tracking_parameters: list[str] = []


class Soft404(_Strict):
    markers: list[str] = []
    max_text_chars: int = Field(default=1500, ge=0)


class ChangesFile(_Strict):
    cosmetic: Cosmetic = Cosmetic()
    soft_404: Soft404 = Soft404()
    classes: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(CLASSES, 0.5))
    diff_lines: int = Field(default=12, ge=1, le=500)

    @model_validator(mode="after")
    def _known_classes(self) -> ChangesFile:
        unknown = set(self.classes) - set(CLASSES)
        if unknown:
            raise ValueError(f"unknown change classes {sorted(unknown)}; known: {', '.join(CLASSES)}")
        if any(not 0 <= w <= 1 for w in self.classes.values()):
            raise ValueError("class weights are between 0 and 1")
        return self


@dataclass(frozen=True)
class ChangeRules:
    """The loaded file with its patterns compiled, once per process."""

    file: ChangesFile
    cosmetic: list[re.Pattern[str]]
    tracking: re.Pattern[str] | None

    @property
    def weights(self) -> dict[str, float]:
        return {c: self.file.classes.get(c, 0.0) for c in CLASSES}


def compile_rules(file: ChangesFile, path: Path | str = CHANGES_FILE) -> ChangeRules:
    try:
        cosmetic = [re.compile(p, re.IGNORECASE) for p in file.cosmetic.remove]
    except re.error as exc:
        raise ConfigFileError(f"{path}: cosmetic.remove: bad pattern: {exc}") from exc
    params = "|".join(re.escape(p) for p in file.cosmetic.tracking_parameters)
    tracking = re.compile(rf"[?&](?:{params})=[^&\s#]*", re.IGNORECASE) if params else None
    return ChangeRules(file=file, cosmetic=cosmetic, tracking=tracking)


def load_change_rules(config_dir: Path) -> ChangeRules:
    """config/changes.yaml, or the defaults (no cosmetic patterns) when the file is absent."""
    path = config_dir / CHANGES_FILE
    return compile_rules(load_config(path, ChangesFile) if path.is_file() else ChangesFile(), path)
