"""QuickBooks Online: the local API sandbox (``modules.quickbooks.sandbox``) and its fixtures."""
