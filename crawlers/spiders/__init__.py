"""Generic spiders, one per discovery method, configured by sources.yaml entries (never one class per site)."""

from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.listing import ListingSpider
from crawlers.spiders.sitemap import SitemapSpider
from crawlers.spiders.telegram import TelegramSpider

__all__ = ["FeedSpider", "ListingSpider", "SitemapSpider", "TelegramSpider"]
