"""The steps the CLI and the Airflow DAGs call: crawl, process, alerts, run, demo, setup.

Top layer: each step is a thin call into ``crawlers`` (through a subprocess) or
``processing`` that returns JSON-ready counts (Airflow passes them as XCom, the
CLI prints them). No pipeline rule lives here; a reader finds those in the two
middle packages.
"""
