"""Local mirrors of the monitored sites: a real HTTP server on 127.0.0.1 for tests, the demo and benchmarks.

The mirror renders a sample corpus (``corpus/*.yaml``) into each site's real
structure (feeds, sitemaps, list pages, article pages, robots.txt) and, when
asked, its misbehaviour. The crawler reaches it through MEDIAMON_URL_REWRITE,
so the real config/sources.yaml is what gets tested.
"""
