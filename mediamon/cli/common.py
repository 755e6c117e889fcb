"""What every `mediamon` command shares: the consoles, settings, the client, and how failures exit.

Exit codes: 0 ok, 1 failure, 2 bad usage or bad config. Expected failures (any
``MediamonError``, an unreachable or refusing cluster) become one line on stderr;
a programming error keeps its traceback. This module never imports a command.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from elastic_transport import ConnectionError as ESConnectionError
from elasticsearch import ApiError, AuthenticationException, Elasticsearch
from pydantic import ValidationError
from rich.console import Console

from mediamon.core.errors import ConfigError, MediamonError
from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings, load_settings

console = Console(stderr=True)
out = Console()


class ConfigExit(click.ClickException):
    """Bad settings or a bad config file: the message, then exit code 2."""

    exit_code = 2


def get_settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        raise ConfigExit(f"invalid MEDIAMON_* settings:\n{exc}") from exc


def get_client(settings: Settings | None = None) -> Elasticsearch:
    try:
        return make_client(settings or get_settings())
    except ConfigError as exc:
        raise ConfigExit(str(exc)) from exc


def print_json_line(value: Any) -> None:
    """One JSON object on one stdout line, never wrapped or marked up."""
    out.print(json.dumps(value, ensure_ascii=False, default=str), soft_wrap=True, highlight=False, markup=False)


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
        except AuthenticationException as exc:
            raise click.ClickException(
                "Elasticsearch refused the credentials (check MEDIAMON_ES_USERNAME/PASSWORD or API key)") from exc
        except ESConnectionError as exc:
            url = get_settings().es_url
            raise click.ClickException(
                f"cannot reach Elasticsearch at {url}: is it running? (`mediamon es status`)") from exc
        except ApiError as exc:
            raise click.ClickException(f"Elasticsearch error {exc.status_code}: {exc.message}") from exc

    return wrapper


def with_sources_file(settings: Settings, sources_file: Path | None) -> Settings:
    """``--sources FILE`` replaces MEDIAMON_SOURCES_FILE for every step of the command (crawl and processing)."""
    return settings.model_copy(update={"sources_file": sources_file.resolve()}) if sources_file else settings
