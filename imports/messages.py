"""What an import says (row errors, file rejections, warnings, the summary's message), made in
one language-neutral form and translated where it is shown (issue 13).

An import runs where there is no user and no request: the CLI, the admin page's import process,
the staged first import's stage process (``python -m imports.first``, without the app). So
every message is made, and kept (the import record's message, warnings and error report), as
its English text, built from one of the ``TEMPLATES`` below with its parameters. ``localise``
finds the template a text was made from, takes the parameters back out of it and gives the
text in the current language through Flask-Babel (the request's language on the admin pages;
the configured default, ``BABEL_DEFAULT_LOCALE``, in the CLI): counts with ngettext, numbers
and times through Babel. Records kept before this module existed read the same way.

The web page never tells its user to use ``--force``: ``localise(..., web=True)`` names the
page's own check box instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache


def N_(message: str) -> str:  # noqa: N802 (the name pybabel extracts)
    """Marks ``message`` for the catalogs; it is translated when shown."""
    return message


def ngettext(singular: str, plural: str, count: int | None = None) -> tuple[str, str]:
    """Marks a plural message for the catalogs (pybabel extracts ``ngettext`` calls)."""
    return (singular, plural)


# A first register on PostgreSQL whose new rows point at rows that are not there, or that are
# not all where they were written (imports.first.postgres): refused, nothing changed.
BROKEN_REFERENCE = ngettext(
    "The register was not saved: %(rows)s new row in %(table)s points at no row of "
    "%(parent)s (%(column)s). Nothing was changed.",
    "The register was not saved: %(rows)s new rows in %(table)s point at no row of "
    "%(parent)s (%(column)s). Nothing was changed.")
ROWS_MISSING = N_("The register was not saved: %(table)s holds %(rows)s of the %(total)s new "
                  "rows the import wrote. Nothing was changed.")

# (msgid or (singular, plural), the parameter that counts). Most specific first: a text is
# read with the first template it matches. Parameters: value, columns, line numbers (first,
# line) stay as written; the counts are numbers; share and limit_share are percentages.
TEMPLATES: list[tuple[str | tuple[str, str], str | None]] = [
    # -- row errors (imports.rows) --
    (N_("missing"), None),
    (N_("not a number: %(value)s"), None),
    (N_("unknown type: %(value)s"), None),
    (N_("not four digits: %(value)s"), None),
    (N_("not a whole number: %(value)s"), None),
    (N_("not five digits: %(value)s"), None),
    (N_("lat and lon must both be given"), None),
    (N_("outside Sweden and Finland: %(lat)s, %(lon)s"), None),
    (N_("sweref_n and sweref_e must both be given"), None),
    (N_("outside SWEREF 99 TM: %(north)s, %(east)s"), None),
    (N_("SWEREF coordinates outside Sweden and Finland"), None),
    (N_("not a phone number"), None),
    (N_("not an e-mail address"), None),
    (N_("not a date (YYYY-MM-DD): %(value)s"), None),
    (N_("not a valid personnummer, samordningsnummer or henkilötunnus"), None),
    (N_("duplicate objektsnummer, first on line %(first)s"), None),
    # -- the file refused whole (imports.apply, imports.readers, imports.limits) --
    (ngettext("required column missing: %(columns)s", "required columns missing: %(columns)s"),
     "count"),
    (N_("the file has a header but no rows"), None),
    (ngettext("%(skipped)s of %(rows)s rows has an error (%(share)s, more than %(limit)s)",
              "%(skipped)s of %(rows)s rows have errors (%(share)s, more than %(limit)s)"),
     "skipped"),
    (ngettext("the file would retire %(retired)s of %(total)s object (%(share)s, more than "
              "%(limit)s)",
              "the file would retire %(retired)s of %(total)s objects (%(share)s, more than "
              "%(limit)s)"), "total"),
    (N_("the first row has no ';', ',' or TAB: not a table"), None),
    (N_("the file is empty"), None),
    (N_("the file is neither CSV nor XLSX"), None),
    (N_("the file has no rows"), None),
    (N_("the first sheet has no rows"), None),
    (N_("the XLSX file cannot be read: %(detail)s"), None),
    (N_("The file is neither UTF-8 nor Windows-1252 text."), None),
    (N_("Line %(line)s cannot be read as CSV."), None),
    (N_("The first row has more than %(limit)s columns: not a register."), None),
    (N_("The file has more than %(limit)s rows."), None),
    (N_("A cell on row %(line)s is longer than %(limit)s characters."), None),
    (N_("Line %(line)s is longer than %(limit)s bytes: not a register file."), None),
    (N_("The XLSX file is damaged and cannot be read."), None),
    (N_("The file holds a NUL byte (line %(line)s): not a text file."), None),
    (N_("The XLSX file has more than %(limit)s parts."), None),
    (N_("The XLSX file unpacks to more than %(limit)s MB."), None),
    (N_("The XLSX file is packed more than %(limit)s times tighter than a spreadsheet can "
        "be: refused as a zip bomb."), None),
    (N_("The XLSX file holds a text or tag longer than %(limit)s bytes."), None),
    # -- warnings and the summary's message (imports.apply, imports.service) --
    (N_("unknown columns ignored: %(columns)s"), None),
    (N_("repeated columns, first one used: %(columns)s"), None),
    (N_("the same file was imported on %(when)s UTC"), None),
    # -- a PostgreSQL first register whose own references do not hold (imports.first.postgres)
    (BROKEN_REFERENCE, "rows"),
    (ROWS_MISSING, None),
]

# What the rejection for too many retired objects adds, where it is shown.
FORCE_HINT_CLI = N_("Check the export, or import with --force.")
FORCE_HINT_WEB = N_("Check the export, or tick “Import even if more than a fifth of the "
                    "register would be retired” and import the file again.")
RETIRE_ID = TEMPLATES[19][0]

_NUMBERS = {"rows", "skipped", "retired", "total", "limit"}
_SHARES = {"share"}
_PARAMETER = re.compile(r"%\((\w+)\)s")


def text(template: str | tuple[str, str], count: int | None = None, **params) -> str:
    """The English text of a template with its parameters: what an import makes and keeps."""
    if isinstance(template, tuple):
        template = template[0] if count == 1 else template[1]
    return template % params if params else template


@cache
def _patterns() -> list[tuple[re.Pattern, str | tuple[str, str], str | None]]:
    patterns = []
    for template, counted in TEMPLATES:
        for form in (template if isinstance(template, tuple) else (template,)):
            parts = _PARAMETER.split(form)
            regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)"
                            for i, part in enumerate(parts))
            patterns.append((re.compile(f"^{regex}$", re.DOTALL), template, counted))
    return patterns


def parse(message: str) -> tuple[str | tuple[str, str], str | None, dict[str, str]] | None:
    """(template, counting parameter, parameters as written) of a text an import made; None
    for a text made by none of them."""
    for pattern, template, counted in _patterns():
        match = pattern.match(message)
        if match:
            return template, counted, match.groupdict()
    return None


def _number(value: str):
    try:
        return int(value)
    except ValueError:
        return None


def _shown(name: str, value: str) -> str:
    from babel.dates import format_datetime
    from flask_babel import format_decimal, format_percent, get_locale

    if name in _NUMBERS and _number(value) is not None:
        return format_decimal(int(value))
    if (name in _SHARES or name == "limit") and value.endswith("%"):  # "5.1%", "20%"
        digits = len(value[:-1].partition(".")[2])
        try:
            return format_percent(float(value[:-1]) / 100,
                                  format="#,##0." + "0" * digits + " %" if digits else "#,##0 %")
        except ValueError:
            return value
    if name == "when":  # kept in UTC, and shown so (the text says UTC)
        try:
            moment = datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        except ValueError:
            return value
        return format_datetime(moment, "short", tzinfo=UTC, locale=get_locale())
    return value


def localise(message: str | None, *, web: bool = False) -> str | None:
    """``message`` (made by an import) in the current language; a text made by no template
    (an internal failure's detail) as it is. ``web``: the page's words instead of the CLI's."""
    if not message:
        return message
    from flask_babel import gettext
    from flask_babel import ngettext as babel_ngettext

    hint = ""
    if message.endswith("; check the export, or import with --force"):  # older records
        message = message.removesuffix("; check the export, or import with --force")
    found = parse(message)
    if found is None:
        return message
    template, counted, params = found
    if template == RETIRE_ID:
        hint = " " + gettext(FORCE_HINT_WEB if web else FORCE_HINT_CLI)
    shown = {name: _shown(name, value) for name, value in params.items()}
    if isinstance(template, tuple):
        if counted == "count":
            count = params["columns"].count(", ") + 1
        else:
            count = _number(params.get(counted, "")) or 0
        # ngettext fills in num itself; the template's own parameters go as they are shown.
        result = babel_ngettext(template[0], template[1], count, **shown)
    else:
        result = gettext(template, **shown) if shown else gettext(template)
    return result + hint
