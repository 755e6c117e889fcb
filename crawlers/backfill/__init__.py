"""Backfill: what a source published in a date range, from its sitemaps, list pages and web archives.

``python -m crawlers.backfill --source ID --since 2021-11-01 --until 2021-11-30`` (or
``mediamon backfill``) runs it; ``crawlers.backfill.run`` explains the phases.
"""
