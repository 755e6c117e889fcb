"""The root of every error mediamon raises on purpose.

Why one base: the CLI and the DAG tasks turn *expected* failures into a
one-line message and an exit code (2 for bad configuration, 1 for a failed
operation) without catching programming errors by accident. Each subclass's
message names the input that caused it (file, field, URL) and what to do.
"""

from __future__ import annotations


class MediamonError(Exception):
    """An expected failure whose message is meant for the operator; exit code 1."""


class ConfigError(MediamonError, ValueError):
    """Bad settings or a bad config file (sources, rules, rewrite rules); exit code 2."""


class OperationFailed(MediamonError, RuntimeError):
    """A step could not complete (archive not writable, cluster unreachable, crawl failed); exit code 1."""
