"""The SSRF guard, where the HTTP modules have always found it; it lives in ``engine.httpguard``
so the service can put every run's HTTP session behind it without importing a module."""

from engine.httpguard import *  # noqa: F403
from engine.httpguard import __all__  # noqa: F401
