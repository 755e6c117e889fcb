"""Load one YAML config file through its pydantic schema, with errors a person can act on.

Why a module of its own: narratives, speakers, alarmism and cleaning rules are all
data under config/, and a bad file must fail at load time naming the file, the
entry and the field (DESIGN.md principle 4) — the same way for every file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mediamon.core.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


class ConfigFileError(ConfigError):
    """A config file is missing, is not YAML, or does not match its schema."""


def read_yaml(path: Path, error: type[Exception] = ConfigFileError) -> Any:
    """The parsed YAML of ``path``; an unreadable, non-UTF-8 or malformed file raises ``error`` naming it."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read config file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text: {exc}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc


def load_config(path: Path, schema: type[Model]) -> Model:
    """Parse ``path`` as YAML and validate it against ``schema``."""
    raw = read_yaml(path)
    try:
        return schema.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<top>'}: {err['msg']}" for err in exc.errors())
        raise ConfigFileError(f"{path}: {problems}") from exc
