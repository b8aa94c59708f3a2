"""1CRM REST API: local sandbox (``modules.onecrm.sandbox``) and, later, the connector."""
