"""Load one YAML config file through its pydantic schema, with errors a person can act on.

Why a module of its own: narratives, speakers, alarmism and cleaning rules are all
data under config/, and a bad file must fail at load time naming the file, the
entry and the field (DESIGN.md principle 4) — the same way for every file.

YAML aliases are capped: a few lines of nested aliases (an "alias bomb") expand
to billions of nodes as soon as anything formats the parsed value (an error
message, a traceback, a log line), so a file whose aliases expand past
``MAX_ALIAS_NODES`` nodes is refused while it is parsed, before anything is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mediamon.core.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)
MAX_ALIAS_NODES = 10_000  # the one aliased file shipped (a sample corpus) expands 9


class ConfigFileError(ConfigError):
    """A config file is missing, is not YAML, or does not match its schema."""


class _BoundedAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing a document whose aliases (``*name``) expand past ``MAX_ALIAS_NODES`` nodes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)
        self._expanded += self._size(node)
        if self._expanded > MAX_ALIAS_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases (*name) expand to more than {MAX_ALIAS_NODES} nodes", mark)
        return node

    def _size(self, node: yaml.Node) -> int:
        """Nodes under ``node`` once every alias in it is expanded (memoised: a bomb is a small graph)."""
        if id(node) not in self._sizes:
            children = (node.value if isinstance(node, yaml.SequenceNode)
                        else [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode)
                        else [])
            self._sizes[id(node)] = 0  # a recursive alias counts once, not forever
            self._sizes[id(node)] = 1 + sum(self._size(child) for child in children)
        return self._sizes[id(node)]


def read_yaml(path: Path, error: type[Exception] = ConfigFileError) -> Any:
    """The parsed YAML of ``path``; raises ``error`` naming it when unreadable, not UTF-8, malformed or a bomb."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_BoundedAliasLoader)  # a SafeLoader
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
