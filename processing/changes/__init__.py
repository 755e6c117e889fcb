"""Versions of articles: what changed between two fetches of one page, and whether it is gone.

The crawler revisits archived articles (``crawlers.revisit``) and records each
answer in the archive manifest (``revisit``, ``revisit_of``, ``warc_type``); this
package turns them into versions: ``diff`` compares two versions at title,
lead, paragraph and sentence level and classifies the change, ``deletion``
recognises a page that is gone, ``versions`` keeps the ``<prefix>-versions``
index and decides, per record, which version it is.
"""
