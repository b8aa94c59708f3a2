"""Xero Accounting API: local sandbox (``modules.xero.sandbox``) and, later, the connector."""
