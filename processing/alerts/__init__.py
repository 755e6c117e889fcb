"""Alerting: rules as data, evaluated over new documents, state and outbox in Elasticsearch.

``rules`` loads config/alerts.yaml; one module per rule type turns documents into
candidate alerts; ``state`` decides fired/updated/suppressed and keeps every bit of
state in the ``<prefix>-alerts`` index; ``deliver`` sends what is pending;
``engine.run_alerts`` wires the steps for the CLI and the DAG.
"""
