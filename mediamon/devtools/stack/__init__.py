"""The production topology on one machine, without Docker: ``mediamon stack start|stop|status``.

A 3-node Elasticsearch cluster with TLS and security (escluster, certs),
PostgreSQL as Airflow's metadata database (postgres), Redis as the Celery broker
(broker), Airflow 3's servers and two Celery workers (airflow_services), and the
mirror of the sample sites as the sources; control starts and stops them in
order, procs owns the process groups. Same settings as docker-compose.yml.
"""
