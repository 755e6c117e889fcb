"""What every `mediamon` command shares: the consoles, settings, the client, and how failures exit.

Exit codes: 0 ok, 1 failure, 2 bad usage or bad config. Expected failures (any
``MediamonError``, an unreachable or refusing cluster) become one line on stderr;
a programming error keeps its traceback. This module never imports a command.

Anything that came from a crawled page or the index (titles, sources, alert
summaries, error texts) is written to the terminal only through ``shown``: Rich
would read its brackets as markup, and the terminal its escape sequences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from mediamon.core.errors import ConfigError, MediamonError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from mediamon.core.settings import Settings

console = Console(stderr=True)
out = Console()

# ECMA-48 sequences (CSI; OSC/DCS/SOS/PM/APC up to their terminator; two-byte ESC x) are dropped;
# any other C0/C1 control or bidirectional override becomes a space (an unterminated sequence loses its ESC).
_TERMINAL_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_].*?(?:\x07|\x1b\\)|\x1b[ -~]?"
    r"|[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", re.DOTALL)
# Characters json.dumps(ensure_ascii=False) leaves raw but a terminal may act on (C1 controls).
_JSON_RAW_CONTROLS = re.compile(r"[\x7f-\x9f]")


def inert(value: object) -> str:
    """``value`` with no escape sequence and no control character (for plain output such as CSV)."""
    return _TERMINAL_CONTROLS.sub(lambda m: "" if m.group().startswith("\x1b") else " ", str(value))


def shown(value: object) -> str:
    """``value`` as inert text for a Rich console: no escape sequence, no control character, no markup."""
    return escape(inert(value))


class ConfigExit(click.ClickException):
    """Bad settings or a bad config file: the message, then exit code 2."""

    exit_code = 2


def get_settings() -> Settings:
    # lazy: pydantic-settings and the Elasticsearch client load when a command runs, not for --help/--version
    from pydantic import ValidationError

    from mediamon.core.settings import load_settings  # lazy: as above

    try:
        return load_settings()
    except ValidationError as exc:
        raise ConfigExit(f"invalid MEDIAMON_* settings:\n{exc}") from exc


def get_client(settings: Settings | None = None) -> Elasticsearch:
    from mediamon.core.esclient import make_client  # lazy: the client costs ~1 s to import, --help needs none

    try:
        return make_client(settings or get_settings())
    except ConfigError as exc:
        raise ConfigExit(str(exc)) from exc


def print_json_line(value: Any) -> None:
    """One JSON object on one stdout line, never wrapped or marked up, with C1 controls escaped."""
    line = _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False,
                                                                                    default=str))
    out.print(line, soft_wrap=True, highlight=False, markup=False)


def failures_exit(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the pipeline's expected failures into a one-line error: exit 2 for config, 1 for the rest."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise ConfigExit(str(exc)) from exc
        except MediamonError as exc:
            raise click.ClickException(str(exc)) from exc
        except _es_errors().auth as exc:  # an except clause's class is looked up only when something was raised
            raise click.ClickException(
                "Elasticsearch refused the credentials (check MEDIAMON_ES_USERNAME/PASSWORD or API key)") from exc
        except _es_errors().connection as exc:
            raise click.ClickException(
                f"cannot reach Elasticsearch at {_es_url()}: is it running? (`mediamon es status`)") from exc
        except _es_errors().timeout as exc:
            raise click.ClickException(
                f"Elasticsearch at {_es_url()} did not answer within {get_settings().es_timeout:g}s "
                "(MEDIAMON_ES_TIMEOUT): is it overloaded? (`mediamon es status`)") from exc
        except _es_errors().api as exc:
            raise click.ClickException(f"Elasticsearch error {exc.status_code}: {exc.message}") from exc

    return wrapper


@cache
def _es_errors() -> SimpleNamespace:
    """The client's exceptions, imported once a command failed: importing the client costs ~1 s."""
    from elastic_transport import ConnectionError as ESConnectionError  # lazy: only when a command failed
    from elastic_transport import ConnectionTimeout  # lazy: as above
    from elasticsearch import ApiError, AuthenticationException  # lazy: as above

    return SimpleNamespace(auth=AuthenticationException, connection=ESConnectionError, timeout=ConnectionTimeout,
                           api=ApiError)


def _es_url() -> str:
    from mediamon.core.settings import redact_url  # lazy: only for an error message

    return redact_url(get_settings().es_url or "")


def with_sources_file(settings: Settings, sources_file: Path | None) -> Settings:
    """``--sources FILE`` replaces MEDIAMON_SOURCES_FILE for every step of the command (crawl and processing)."""
    return settings.model_copy(update={"sources_file": sources_file.resolve()}) if sources_file else settings


def reasons(counts: dict[str, int]) -> str:
    """Counts by reason as one table cell: ``http_404 2, timeout 1``, or ``-``."""
    return shown(", ".join(f"{reason} {n}" for reason, n in sorted(counts.items())) or "-")
