"""Webhook ingress without Flask's request machinery: ``/hooks/<token>`` answered in WSGI.

A webhook request through Flask pushes an application and a request context, matches the URL
map, opens (a null) session, sends signals, runs three ``before_request``/``after_request``
hooks and builds a ``Response`` for ``Accepted`` — work the bare floor does too, but on top of
a request whose own part is small. ``RawHooks`` sits in front of Flask's ``wsgi_app`` and
answers ``GET``/``POST``/``PUT``/``PATCH``/``DELETE /hooks/<token>`` itself, by the same steps
and with the same functions as ``webui.hooks.receive``:

* the request is read by Flask's own request class (headers, query, body, content type, the
  ``MAX_CONTENT_LENGTH`` limit on a stream the server terminates);
* the service accepts it through the view's own ``accept_request`` (durable before any answer; its
  refusals — unknown or disabled hook, size, bad JSON, rate limit, signature — are its own);
* errors are answered by the functions the app's error handlers use
  (``service_error_answer``, ``http_error_answer``), an unexpected one as Flask would (logged,
  500, or raised where Flask propagates);
* every answer gets ``confine_hook_answer`` and ``security_headers``, as the hooks blueprint's
  and the app's ``after_request`` give them.

Anything it does not decide goes to Flask unchanged, before a byte of the body is read:
other paths and methods (``HEAD``, ``OPTIONS`` …), a ``Content-Length`` over the limit (Flask's
413), and, when webhooks have an origin of their own (``SWITCHBOARD_HOOKS_URL``), a request
on any other host (Flask redirects it, ``webui.hosts``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, Response
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wsgi import get_content_length, get_host

from engine.service import Service, ServiceError
from webui.app import SERVICE_KEY, http_error_answer, security_headers, service_error_answer
from webui.hook_safety import confine_hook_answer, scenario_answer
from webui.hooks import METHODS as VIEW_METHODS
from webui.hooks import accept_request, accepted_answer
from webui.hosts import HOOKS_PREFIX, is_on_origin

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

METHODS = frozenset(VIEW_METHODS)
"""``webui.hooks.receive``'s methods (``HEAD``, which Flask answers with the GET view, is
Flask's)."""


class RawHooks:
    """WSGI middleware: webhook requests answered here, everything else by ``flask_app``."""

    def __init__(self, app: Flask, flask_app: WSGIApp) -> None:
        self.app = app
        self.flask_app = flask_app
        # "Accepted" as Flask's view answers it (built by the same functions), per scheme.
        self._accepted = {secure: _accepted_answer(secure) for secure in (False, True)}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        token = self._token(environ)
        if token is None:
            return self.flask_app(environ, start_response)
        return self._receive(token, environ, start_response)

    def _token(self, environ: dict[str, Any]) -> str | None:
        """The token when this path answers the request, ``None`` when Flask does."""
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(HOOKS_PREFIX) or environ.get("REQUEST_METHOD") not in METHODS:
            return None
        # Werkzeug's decoding of PATH_INFO (WSGI's latin-1 text of the URL's bytes).
        token = path[len(HOOKS_PREFIX) :].encode("latin-1").decode("utf-8", "replace")
        if not token or "/" in token:
            return None  # not the view's one segment: Flask routes it (404, apps, slashes)
        if self.app.config.get("TRUSTED_HOSTS"):
            return None  # Flask checks the Host header against them
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        length = get_content_length(environ)
        if limit is not None and length is not None and length > limit:
            return None  # Flask's 413, before the body is read
        hooks_url = self._service().options.hooks_url.rstrip("/")
        if hooks_url and not is_on_origin(get_host(environ), hooks_url):
            return None  # Flask redirects it to the hooks origin
        return token

    def _receive(
        self, token: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        request = self.app.request_class(environ)
        request.max_content_length = self.app.config["MAX_CONTENT_LENGTH"]
        try:
            answer = accept_request(self._service(), token, request)
        except ServiceError as error:
            response = service_error_answer(self.app, error)
        except HTTPException as error:  # the body over the limit while it was read
            response = http_error_answer(self.app, error)
        except Exception as error:
            response = self._unexpected(request, error)
        else:
            if answer is None:
                status, headers, body = self._accepted[request.is_secure]
                start_response(status, list(headers))
                return [body]
            response = scenario_answer(answer)
        confine_hook_answer(response)
        security_headers(response, request.path, request.is_secure)
        return response(environ, start_response)

    def _service(self) -> Service:
        """The app's service, read per request as ``current_service()`` reads it."""
        service: Service = self.app.extensions[SERVICE_KEY]
        return service

    def _unexpected(self, request: Request, error: Exception) -> Response:
        """What Flask does with an exception no handler takes: raised where it propagates
        them (testing, debug), else logged and answered 500 by the HTTP error handler."""
        app = self.app
        propagate = app.config["PROPAGATE_EXCEPTIONS"]
        if propagate if propagate is not None else (app.testing or app.debug):
            raise error
        app.logger.error(f"Exception on {request.path} [{request.method}]", exc_info=sys.exc_info())
        return http_error_answer(app, InternalServerError(original_exception=error))


def _accepted_answer(secure: bool) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body of the view's ``Accepted``, confined and with the app's
    security headers, as Werkzeug sends them."""
    response = accepted_answer()
    confine_hook_answer(response)
    security_headers(response, HOOKS_PREFIX, secure)
    body, status, headers = response.get_wsgi_response({"REQUEST_METHOD": "POST"})
    return status, list(headers), b"".join(body)
