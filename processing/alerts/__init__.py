"""Alerting: rules as data, evaluated over new documents, state and outbox in Elasticsearch.

``rules`` loads config/alerts.yaml; one module per rule type (``match``,
``threshold``, ``spike``, ``new_term``, ``flatline``) turns documents into
candidate alerts, with what they share in ``evidence``; ``engine`` decides
fired/updated/duplicate/suppressed/silenced and runs the whole thing
(``run_alerts``, for the CLI and the DAG); ``state`` keeps every bit of state in
the ``<prefix>-alerts`` index; ``message`` composes and ``deliver`` sends.
"""
