# mediamon inside the official Airflow image: the DAGs, the `mediamon` CLI and its config.
# Built by docker-compose.yml (`docker compose build`); the same image runs every Airflow
# component and the one-shot init jobs.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}
ARG AIRFLOW_VERSION

# Named volumes mount over these; creating them here makes the volumes owned by `airflow`.
# Debian's Chromium (MEDIAMON_BROWSER_PATH=/usr/bin/chromium): mid.ru and rt.com answer plain clients with a
# JavaScript challenge, which the shipped sources pass in it (render: on_challenge, docs/crawling.md).
USER root
RUN mkdir -p /opt/mediamon/data/archive /opt/mediamon/data/crawl-state /opt/mediamon/src \
    && chown -R airflow:0 /opt/mediamon \
    && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*
USER airflow

# Dependencies first (cached layer), pinned to the Airflow version of the base image.
COPY --chown=airflow:0 pyproject.toml README.md /opt/mediamon/src/
COPY --chown=airflow:0 mediamon /opt/mediamon/src/mediamon
COPY --chown=airflow:0 crawlers /opt/mediamon/src/crawlers
COPY --chown=airflow:0 processing /opt/mediamon/src/processing
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "/opt/mediamon/src[airflow]"

COPY --chown=airflow:0 config /opt/mediamon/config
COPY --chown=airflow:0 dags /opt/airflow/dags

ENV MEDIAMON_CONFIG_DIR=/opt/mediamon/config \
    MEDIAMON_DATA_DIR=/opt/mediamon/data
