"""Webhooks: their public URLs (``SWITCHBOARD_HOOKS_URL``, else ``SWITCHBOARD_BASE_URL``, else
the request's host), queues and "determine data structure"."""

from __future__ import annotations

import os

from flask import Response, current_app, request

from webui.api.models import ScenarioFilter, WebhookIn, WebhookOut
from webui.api.routing import answer, json_body, no_content, query_args, route
from webui.app import current_service

PUBLIC_URL_KEY = "SWITCHBOARD_BASE_URL"  # the same base URL the OAuth callback uses


def public_hooks_url() -> str:
    """Where the world reaches this installation's webhooks: the hooks origin when it has one
    of its own, else the configured base URL, else this request's."""
    hooks_url = current_service().options.hooks_url
    configured = current_app.config.get(PUBLIC_URL_KEY) or os.environ.get(PUBLIC_URL_KEY)
    return str(hooks_url or configured or request.host_url).rstrip("/")


def webhook_out(webhook_id: int) -> WebhookOut:
    service = current_service()
    webhook = service.get_webhook(webhook_id)
    return WebhookOut(
        id=webhook.id,
        name=webhook.name,
        scenario_id=webhook.scenario_id,
        url=f"{public_hooks_url()}/hooks/{webhook.token}",
        enabled=webhook.enabled,
        settings=webhook.settings,
        queued=service.queued_requests(webhook.id),
    )


@route("/webhooks", "GET", query=ScenarioFilter, answer=list[WebhookOut])
def list_webhooks() -> Response:
    """Every webhook (of one scenario with ``?scenario_id=``)."""
    scenario_id = query_args(ScenarioFilter).scenario_id
    webhooks = current_service().list_webhooks(scenario_id=scenario_id)
    return answer([webhook_out(webhook.id) for webhook in webhooks])


@route("/webhooks", "POST", body=WebhookIn, answer=WebhookOut, status=201)
def create_webhook() -> Response:
    """A webhook with a fresh secret URL, optionally attached to a scenario."""
    given = json_body(WebhookIn)
    service = current_service()
    if given.scenario_id is not None:
        service.get_scenario(given.scenario_id)  # 404 for an unknown scenario
    webhook = service.create_webhook(given.name, scenario_id=given.scenario_id)
    return answer(webhook_out(webhook.id), 201)


@route("/webhooks/<int:webhook_id>", "GET", answer=WebhookOut)
def get_webhook(webhook_id: int) -> Response:
    """One webhook (poll it after ``determine`` until ``settings.structure`` appears)."""
    return answer(webhook_out(webhook_id))


@route("/webhooks/<int:webhook_id>", "DELETE", status=204)
def delete_webhook(webhook_id: int) -> Response:
    """Delete a webhook and its queue; its URL stops answering."""
    current_service().delete_webhook(webhook_id)
    return no_content()


@route("/webhooks/<int:webhook_id>/determine", "POST", answer=WebhookOut, status=202)
def determine_webhook(webhook_id: int) -> Response:
    """Learn the data structure from the next request the webhook receives
    (``settings.learning`` is true until then)."""
    current_service().learn_next_request(webhook_id)
    return answer(webhook_out(webhook_id), 202)
