"""Alert rules as data: the typed schema of config/alerts.yaml and its loader.

A bad file fails at load time with the file, the rule and the field, so a typo
never silently disables an alert. Durations are written ``90s``, ``30m``, ``6h``,
``7d`` or ``2w``. Secrets (webhook URLs with tokens, SMTP passwords) are never
written here: a channel names the environment variable that holds them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from mediamon.core.configfile import read_yaml
from mediamon.core.durations import parse_duration
from mediamon.core.errors import ConfigError

RULE_ID = r"^[a-z0-9][a-z0-9_-]*$"
TIME_FIELDS = Literal["published_at", "indexed_at", "fetched_at"]


class RulesError(ConfigError):
    """config/alerts.yaml is unreadable or invalid; the message names file, rule and field."""


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- channels ------------------------------------------------------------------------


class WebhookChannel(_Strict):
    """Slack/Mattermost incoming webhook: POST {"text": ...}."""

    type: Literal["webhook"]
    url: str | None = Field(default=None, description="non-secret URL (e.g. a local relay)")
    url_env: str | None = Field(default=None, description="environment variable holding the URL")
    verify_tls: bool = True
    ca_certs: Path | None = None
    timeout: float = 10.0

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if bool(self.url) == bool(self.url_env):
            raise ValueError("give exactly one of url or url_env")
        return self


class EmailChannel(_Strict):
    """SMTP with STARTTLS (or implicit TLS) and auth; credentials only from the environment."""

    type: Literal["email"]
    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    ca_certs: Path | None = None
    sender: str
    to: list[str] = Field(min_length=1)
    username_env: str | None = None
    password_env: str | None = None
    timeout: float = 10.0


class FileChannel(_Strict):
    """One JSON line per message; ``-`` is stdout. Relative paths are under the data dir."""

    type: Literal["file"]
    path: str = "alerts/alerts.jsonl"


Channel = Annotated[WebhookChannel | EmailChannel | FileChannel, Field(discriminator="type")]


# --- rules ---------------------------------------------------------------------------


class _Rule(_Strict):
    id: str = Field(pattern=RULE_ID)
    description: str = ""
    enabled: bool = True
    query: str = Field(default="*", description="Lucene query_string over the documents")
    realert: Duration | None = None
    digest: Duration | None = Field(default=None, description="collect into one message per period")
    channels: list[str] | None = None
    max_documents: int = Field(default=10, ge=1, le=100)


class MatchRule(_Rule):
    """Every new document matching the query; near-duplicates alert once per dup_group."""

    type: Literal["match"]


class _Windowed(_Rule):
    time_field: TIME_FIELDS = "published_at"
    group_by: str | None = Field(default=None, description="keyword field: one alert per key")
    # One story repeated by ten outlets is one story: duplicates are not counted by default.
    count_duplicates: bool = False


class ThresholdRule(_Windowed):
    """Documents in the last ``window`` above or below a count (per key with ``group_by``)."""

    type: Literal["threshold"]
    window: Duration
    above: int | None = Field(default=None, ge=0)
    below: int | None = Field(default=None, ge=1)
    keys: list[str] = Field(default_factory=list, description="keys watched by `below` (else seen in history)")
    history: Duration = timedelta(days=7)

    @model_validator(mode="after")
    def _one_bound(self) -> ThresholdRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above or below")
        return self


class SpikeRule(_Windowed):
    """The current window's rate against the preceding baseline window's, per key."""

    type: Literal["spike"]
    window: Duration
    baseline: Duration
    factor: float = Field(default=3.0, gt=1)
    min_current: int = Field(default=5, ge=1)
    min_baseline: int = Field(default=0, ge=0, description="baseline count below this is treated as this")


class NewTermRule(_Rule):
    """A value of ``field`` never seen over ``history`` (per ``group_by`` key when set)."""

    type: Literal["new_term"]
    field: str
    group_by: str | None = None
    history: Duration = timedelta(days=30)
    time_field: TIME_FIELDS = "published_at"


class FlatlineRule(_Rule):
    """A source silent for longer than its usual gap between documents."""

    type: Literal["flatline"]
    sources: list[str] | None = Field(default=None, description="default: config/sources.yaml and sources seen")
    history: Duration = timedelta(days=14)
    factor: float = Field(default=3.0, gt=0, description="silence allowed = factor x the usual (p90) gap")
    min_silence: Duration = timedelta(hours=6)
    max_silence: Duration | None = None
    sample: int = Field(default=50, ge=3, le=500, description="recent documents used to learn the gap")
    time_field: TIME_FIELDS = "published_at"


class _ChangeRule(_Rule):
    """Rules over the versions index (processing.changes): the query is on version fields (title, lead, url)."""

    sources: list[str] = Field(default_factory=list, description="source ids; empty: all")
    narratives: list[str] = Field(default_factory=list, description="any of these narratives; empty: all")
    speakers: list[str] = Field(default_factory=list, description="any of these speakers; empty: all")


class EditedRule(_ChangeRule):
    """A published article changed substantively (a new version), of at least one class and score."""

    type: Literal["edited"]
    classes: list[str] = Field(default_factory=list, description="any of these change classes; empty: any")
    min_score: float = Field(default=0.0, ge=0, le=1)


class DeletedRule(_ChangeRule):
    """A published article is gone: 404/410, redirected to a section or home page, soft-404."""

    type: Literal["deleted"]
    how: list[str] = Field(default_factory=list, description="any of http_404, http_410, redirect_to_home, "
                                                             "redirect_to_section, soft_404, vanished_from_feed, "
                                                             "vanished_from_sitemap, vanished_from_list; "
                                                             "empty: all")


class PushRule(_Rule):
    """A story (or narrative) carried by many outlets of several owners within hours, above its usual reach
    (processing.alerts.push)."""

    type: Literal["coordinated_push"]
    group_by: Literal["story_id", "narratives"] = "story_id"
    window: Duration = timedelta(hours=6)
    min_outlets: int = Field(default=5, ge=2)
    min_owners: int = Field(default=3, ge=1)
    baseline: Duration = Field(default=timedelta(days=14), description="the narratives' usual reach is learnt here")
    factor: float = Field(default=2.0, gt=0, description="outlets >= factor x the narrative's usual per window")
    time_field: TIME_FIELDS = "published_at"


Rule = Annotated[MatchRule | ThresholdRule | SpikeRule | NewTermRule | FlatlineRule | EditedRule | DeletedRule
                 | PushRule, Field(discriminator="type")]


class Retry(_Strict):
    attempts: int = Field(default=3, ge=1)
    backoff: Duration = timedelta(seconds=2)


class Defaults(_Strict):
    realert: Duration = timedelta(hours=1)
    channels: list[str] = Field(default_factory=lambda: ["file"])
    # indexed_at is stamped before Elasticsearch acknowledges: re-read this margin, dedupe by alert id.
    lag: Duration = timedelta(minutes=5)
    initial_lookback: Duration = timedelta(hours=24)
    retry: Retry = Field(default_factory=Retry)


class AlertsConfig(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    channels: dict[str, Channel] = Field(default_factory=lambda: {"file": FileChannel(type="file")})
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> AlertsConfig:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        for owner, names in [("defaults", self.defaults.channels)] + [(r.id, r.channels or []) for r in self.rules]:
            for name in names:
                if name not in self.channels:
                    raise ValueError(f"{owner}: channel {name!r} is not defined under channels "
                                     f"(defined: {', '.join(self.channels) or 'none'})")
        return self

    def realert(self, rule: _Rule) -> timedelta:
        return rule.realert if rule.realert is not None else self.defaults.realert

    def channels_of(self, rule: _Rule) -> list[str]:
        return rule.channels if rule.channels is not None else self.defaults.channels

    @property
    def active_rules(self) -> list[Any]:
        return [r for r in self.rules if r.enabled]


def load_alert_rules(path: Path) -> AlertsConfig:
    """Parse and validate an alerts file; a missing file means no rules (nothing to alert on)."""
    if not path.is_file():
        return AlertsConfig()
    raw = read_yaml(path, error=RulesError) or {}
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: expected a mapping with defaults/channels/rules, got {type(raw).__name__}")
    try:
        return AlertsConfig.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(f"{path}: " + "; ".join(_describe(raw, err) for err in exc.errors())) from exc


def _describe(raw: dict[str, Any], err: Any) -> str:
    """'rule "x" field "window": ...' instead of pydantic's positional locations."""
    loc = list(err["loc"])
    where = "top level"
    if loc[:1] == ["rules"] and len(loc) > 1 and isinstance(loc[1], int):
        rules = raw.get("rules") or []
        entry = rules[loc[1]] if loc[1] < len(rules) else {}
        rule_id = entry.get("id") if isinstance(entry, dict) else None
        where = f"rule {rule_id!r}" if rule_id else f"rule #{loc[1] + 1}"
        # drop the index and the union tag (the rule type) pydantic inserts
        loc = [part for part in loc[2:] if part not in {"match", "threshold", "spike", "new_term", "flatline",
                                                        "edited", "deleted", "coordinated_push"}]
    elif loc[:1] == ["channels"] and len(loc) > 1:
        where = f"channel {loc[1]!r}"
        loc = [p for p in loc[2:] if p not in {"webhook", "email", "file"}]
    elif loc:
        where = str(loc[0])
        loc = loc[1:]
    field = ".".join(str(p) for p in loc)
    return f"{where}" + (f" field {field!r}" if field else "") + f": {err['msg']}"
