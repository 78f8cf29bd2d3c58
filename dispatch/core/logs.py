"""Structured logging: one JSON object per line on stderr, ready for any log collector.

Log records carry ids, never personal data (no personnummer, door codes or phone numbers).
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as JSON, with the request's method, path and id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = request.path
            entry["request_id"] = g.get("request_id")
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Install the handler on the root logger once (idempotent: tests build many apps)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_dispatch", False):
            break
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler._dispatch = True
        root.addHandler(handler)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.setLevel(level)
    # Alembic announces its plugins at INFO on every start; that is noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # fpdf's font subsetting (fontTools) lists glyphs at INFO for every PDF: hundreds of lines.
    logging.getLogger("fontTools").setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    """Configure logging from the app's settings and give each request an id."""
    configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    @app.before_request
    def _request_id() -> None:

        g.request_id = request.headers.get("X-Request-Id") or secrets.token_hex(8)
