"""Make's RSS app: retrieve feed items (``rss:ActionReadArticles``) and watch a feed
(``rss:TriggerNewArticle``). Feeds are fetched through the run's HTTP session and SSRF guard."""

from modules.rss.modules import RSS_MODULES

__all__ = ["RSS_MODULES"]
