"""Zoho's data centres: the API host and the accounts (OAuth) host of each
(vendor/zoho/NOTES.md §1, from Zoho's SDK 8.0 data-centre classes).

Neither host follows from the other by a pattern: Canada's API is ``www.zohoapis.ca`` and its
accounts server ``accounts.zohocloud.ca``. Calls go to the token answer's ``api_domain``;
the table is the fallback and what ``connection check`` compares against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class DataCentre:
    code: str
    api_domain: str
    accounts_server: str

    @property
    def api_host(self) -> str:
        return urlsplit(self.api_domain).hostname or ""

    @property
    def accounts_host(self) -> str:
        return urlsplit(self.accounts_server).hostname or ""


DATA_CENTRES: tuple[DataCentre, ...] = (
    DataCentre("US", "https://www.zohoapis.com", "https://accounts.zoho.com"),
    DataCentre("EU", "https://www.zohoapis.eu", "https://accounts.zoho.eu"),
    DataCentre("IN", "https://www.zohoapis.in", "https://accounts.zoho.in"),
    DataCentre("AU", "https://www.zohoapis.com.au", "https://accounts.zoho.com.au"),
    DataCentre("JP", "https://www.zohoapis.jp", "https://accounts.zoho.jp"),
    DataCentre("CA", "https://www.zohoapis.ca", "https://accounts.zohocloud.ca"),
    DataCentre("CN", "https://www.zohoapis.com.cn", "https://accounts.zoho.com.cn"),
    DataCentre("SA", "https://www.zohoapis.sa", "https://accounts.zoho.sa"),
)

_BY_ACCOUNTS_HOST: Mapping[str, DataCentre] = {dc.accounts_host: dc for dc in DATA_CENTRES}


def _api_host(host: str) -> str:
    """An API host without Zoho's sandbox/developer prefixes (``sandbox.zohoapis.eu``)."""
    for prefix in ("sandbox.", "developer."):
        if host.startswith(prefix):
            return "www." + host.removeprefix(prefix)
    return host


def by_api_domain(url: str) -> DataCentre | None:
    """The data centre whose API host ``url`` is (its sandbox and developer hosts too)."""
    host = _api_host(urlsplit(url).hostname or "")
    return next((dc for dc in DATA_CENTRES if dc.api_host == host), None)


def by_accounts_server(url: str) -> DataCentre | None:
    """The data centre whose accounts server ``url`` is."""
    return _BY_ACCOUNTS_HOST.get(urlsplit(url).hostname or "")


def api_domain_for(accounts_server: str) -> str:
    """The API host of a data centre from its accounts server: ``https://accounts.zoho.eu`` →
    ``https://www.zohoapis.eu``, ``https://accounts.zohocloud.ca`` → ``https://www.zohoapis.ca``.
    A server that is not Zoho's (a sandbox) serves the API too."""
    centre = by_accounts_server(accounts_server)
    return centre.api_domain if centre else accounts_server.rstrip("/")
