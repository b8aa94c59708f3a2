"""Make's HTTP app: requests to any URL, behind the SSRF guard."""

from modules.http.modules import HTTP_MODULES

__all__ = ["HTTP_MODULES"]
