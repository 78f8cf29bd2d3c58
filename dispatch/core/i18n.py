"""Languages: Swedish by default, English and Finnish on request (Flask-Babel catalogs).

The choice is the user's: a ``?lang=`` link stores it in the session (and on the account when
logged in). The browser's Accept-Language is deliberately not used: the service is Swedish
first, and a call-centre PC set up in English must still show the Swedish console.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, current_app, request, session
from flask_babel import force_locale
from flask_login import current_user

from dispatch.core.extensions import babel

TRANSLATIONS_DIR = str(Path(__file__).resolve().parent.parent / "translations")
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English", "fi": "Suomi"}


def select_locale() -> str:
    """The language for this request: ?lang=, then the session, then the account, else Swedish."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def with_language(code: str) -> str:
    """The link that shows this page in another language: the same query (a log-in page's
    ``next`` and ``hint``, a list's filters) with ``lang`` set."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*args, ("lang", code)])


def as_strings(mapping: dict) -> dict:
    """Translated words (lazy strings) as plain text, to hand a page's script as JSON."""
    return {str(key): str(value) for key, value in mapping.items()}


def in_default_locale(command):
    """Run a command's body in the app's language (``BABEL_DEFAULT_LOCALE``): a command has no
    request to choose one from. Goes below ``with_appcontext``, which gives it the app."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "sv")):
            return command(*args, **kwargs)
    return run


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our selector and catalogs; expose the language list to templates."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = TRANSLATIONS_DIR
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _languages() -> dict:
        return {"language_names": LANGUAGE_NAMES, "current_locale": select_locale(),
                "with_language": with_language}
