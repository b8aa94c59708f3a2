"""The web app: ``create_app(config)`` builds it (see ``webui.app``)."""

from webui.app import create_app, current_service

__all__ = ["create_app", "current_service"]
