"""Errors: JSON ``{"error": {code, message}}`` under /api/, friendly HTML pages elsewhere.

Never a stack trace to the client; the trace goes to the log with the request id.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A client error raised by an API view: status, a stable code and a readable message."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def found(row, what: str, ident):
    """``row``, or the API's JSON 404 when it is None (``what`` names it in the message)."""
    if row is None:
        raise ApiError(404, "not_found", f"no {what} {ident}")
    return row


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def _is_api() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra):
    """Build the contract's error body."""
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return json_error(exc.status, exc.code, exc.message, **exc.extra)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        if _is_api():
            return json_error(400, "csrf_failed", exc.description)
        return render_template(
            "errors/error.html",
            status=400,
            title=_("The form has expired"),
            message=_("Go back, reload the page and try again."),
        ), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if _is_api():
            return json_error(status, _code_for(exc), exc.description or exc.name)
        titles = {
            401: _("Please log in"),
            403: _("You do not have access to this page"),
            404: _("Page not found"),
            405: _("That is not allowed here"),
            429: _("Too many attempts"),
        }
        return render_template(
            "errors/error.html", status=status, title=titles.get(status, exc.name), message=""
        ), status

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        # The request's unit of work has rolled back already (``App.dispatch_request``).
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        if _is_api():
            return json_error(
                500,
                "internal_error",
                f"Something went wrong on our side. Quote request id {g.get('request_id')}.",
            )
        return render_template(
            "errors/error.html",
            status=500,
            title=_("Something went wrong"),
            message=_("The error has been logged. Request id: %(rid)s", rid=g.get("request_id")),
        ), InternalServerError.code
