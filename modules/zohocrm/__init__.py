"""Zoho CRM: the local API sandbox (``modules.zohocrm.sandbox``) and its fixtures."""
