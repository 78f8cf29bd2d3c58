"""Errors: JSON ``{"error": {code, message}}`` under /api/, friendly HTML pages elsewhere.

Never a stack trace to the client; the trace goes to the log with the request id.

A database that cannot be reached (PostgreSQL restarting, a dropped connection, SQLite's
"database is locked" after its wait, a pool with no connection to give) is a 503
``database_unavailable`` with ``Retry-After``, not a 500: the request's unit of work has
rolled back, nothing of it is written, and the same request may simply be sent again. The
pool checks each connection before use (``pool_pre_ping``), so once the database is back
the next request gets a fresh connection: the web process needs no restart.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

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


RETRY_AFTER_S = 5


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or used just now (a state that
    passes), rather than that the request or the code is wrong."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def storable(value) -> bool:
    """No NUL and no unpaired surrogate anywhere in ``value`` (a str, or dicts and lists of
    them): PostgreSQL stores neither, and no user means to send them."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return True


def _unstorable_input() -> bool:
    """Whether the request's query string, JSON body or plain form holds text no database
    stores. Multipart bodies (uploads) are left to their views, which stream them."""
    if not storable(request.args.to_dict(flat=False)) or not storable(request.path):
        return True
    if request.is_json:
        return not storable(request.get_json(silent=True))
    if request.mimetype == "application/x-www-form-urlencoded":
        return not storable(request.form.to_dict(flat=False))
    return False


def json_error(status: int, code: str, message: str, **extra):
    """Build the contract's error body."""
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.before_request
    def _refuse_unstorable_text():
        # One check for every route, before any view reads the input: text with NUL or an
        # unpaired surrogate is a clear 400, never a database error (a 500) on PostgreSQL.
        if not _unstorable_input():
            return None
        if _is_api():
            return json_error(400, "invalid_text",
                              "text must be valid Unicode without NUL characters")
        return render_template(
            "errors/error.html", status=400, title=_("The text cannot be saved"),
            message=_("It holds characters that cannot be saved (such as NUL). Remove them "
                      "and try again."),
        ), 400

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
            response, status = json_error(status, _code_for(exc), exc.description or exc.name)
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response, status
        titles = {
            401: _("Please log in"),
            403: _("You do not have access to this page"),
            404: _("Page not found"),
            405: _("That is not allowed here"),
            413: _("The file is too large"),
            429: _("Too many attempts"),
        }
        message = ""
        if status == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
            message = _("Files up to %(mb)s MB can be sent.",
                        mb=f"{current_app.config['MAX_CONTENT_LENGTH'] / (1 << 20):g}")
        return render_template(
            "errors/error.html", status=status, title=titles.get(status, exc.name),
            message=message,
        ), status

    def _unavailable(exc: Exception):
        first_line = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        log.warning("database unavailable", extra={
            "request_id": g.get("request_id"), "path": request.path,
            "error": f"{type(exc).__name__}: {first_line}"[:300]})
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if _is_api():
            response, status = json_error(
                503, "database_unavailable",
                "The database cannot be reached just now; nothing was saved. Try again in a "
                "moment.")
            response.headers.update(headers)
            return response, status
        # The page must not reach for the database again: the user behind the session (and
        # the language of their account) would be loaded from it. Shown as anonymous.
        g._login_user = current_app.login_manager.anonymous_user()
        return render_template(
            "errors/error.html", status=503,
            title=_("The service is unavailable for a moment"),
            message=_("Nothing was saved. Wait a moment and try again."),
        ), 503, headers

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        if database_unavailable(exc):
            return _unavailable(exc)
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
