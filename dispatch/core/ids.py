"""Row ids as they come from outside (URLs, JSON bodies, socket events): whole numbers the
database can hold. A bigger number is no row at all, never an overflow deep in the driver
(PostgreSQL's INTEGER stops at 2^31 - 1; SQLite's at 2^63 - 1)."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


def is_id(value) -> bool:
    """Whether ``value`` can be a row id: an int (not a bool) from 1 to ``MAX_ID``."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: a URL with a number past ``MAX_ID`` does not match (404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Make every ``<int:...>`` route variable an id (before the blueprints are registered)."""
    app.url_map.converters["int"] = IdConverter
