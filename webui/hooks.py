"""Webhook ingress: ``/hooks/<token>`` takes GET, POST, PUT, PATCH and DELETE, like Make (and
answers HEAD without storing or running anything);
``/hooks/apps/<app>`` takes deliveries an app sends for all its accounts to one address.

The view reads the request, asks the service to accept it (the request is durable in the
webhook queue before any answer goes out), and answers ``Accepted`` — or, when the scenario has
a Webhook response module, whatever that module answers within the response timeout — confined
so that it never acts with the app's authority (``webui.hook_safety``).
"""

from __future__ import annotations

from flask import Blueprint, Request, Response
from werkzeug.exceptions import RequestEntityTooLarge

from engine.queue import WebhookResponse
from engine.service import Service
from webui.app import current_request, current_service
from webui.hook_safety import caller_headers, confine_hook_answer, scenario_answer

hooks = Blueprint("hooks", __name__)
hooks.after_request(confine_hook_answer)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@hooks.route("/hooks/<token>", methods=METHODS)
def receive(token: str) -> Response:
    service = current_service()
    request = current_request()
    if request.method == "HEAD":
        # Flask serves HEAD with the GET view; a HEAD (a link checker, an uptime monitor)
        # learns whether the address exists, and stores and runs nothing.
        service.probe_webhook(token)
        return Response(status=200, mimetype="text/plain")
    answer = accept_request(service, token, request)
    return accepted_answer() if answer is None else scenario_answer(answer)


def accept_request(service: Service, token: str, request: Request) -> WebhookResponse | None:
    """A webhook request stored (and run, when its scenario runs first), then the scenario's
    answer, or ``None`` to answer ``accepted_answer()``: this view's steps and the raw WSGI
    path's (``webui.rawhooks``)."""
    accepted = service.accept_webhook(
        token,
        method=request.method,
        headers=caller_headers(request),
        query=request.args.to_dict(flat=True),
        body=read_body(request),
        content_type=request.content_type,
    )
    return service.wait_for_response(accepted)


def accepted_answer() -> Response:
    """The answer to a request the scenario does not answer itself."""
    return Response("Accepted", 200, mimetype="text/plain")


def read_body(request: Request) -> bytes:
    """The request's body, refused (413, as Flask refuses a ``Content-Length`` over the
    limit) when it is longer than ``MAX_CONTENT_LENGTH``.

    A body the server terminates itself (chunked, ``wsgi.input_terminated``) has no length
    to check first, and Werkzeug reads it only up to the limit, without an error: the body
    cut at the limit would be accepted. Reading one byte more tells a body over the limit
    from one that ends at it."""
    limit = request.max_content_length
    if limit is None:
        return request.get_data(cache=False)
    request.max_content_length = limit + 1
    body = request.get_data(cache=False)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


@hooks.route("/hooks/apps/<app_id>", methods=["POST"])
def receive_app_delivery(app_id: str) -> Response:
    """An app's single webhook address (QuickBooks Online and Xero post all companies here):
    the service checks the signature and queues each scenario's part; nothing is queued on 401.

    The answer is the status alone, with an empty body and no cookies: Xero's intent-to-receive
    check fails an endpoint whose 200 or 401 carries a body (the senders read only the status).
    """
    request = current_request()
    status = current_service().accept_app_delivery(
        app_id,
        method=request.method,
        headers=caller_headers(request),
        query=request.args.to_dict(flat=True),
        body=read_body(request),
        content_type=request.content_type,
    )
    return Response(b"", status, mimetype="text/plain")
