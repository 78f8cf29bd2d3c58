"""The audit log for admins: who did what to which subject when, filtered by each of those and
paginated, and the same selection as CSV (``core.csvsafe``: a subject or detail that starts
like a formula stays text in the spreadsheet). Reading the log is audited too. The page says
each line in words (``audit_labels``); the CSV keeps the codes."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from dispatch.admin.audit_labels import (
    GROUP_NAMES,
    action_name,
    detail_pairs,
    group_name,
    masked,
    subject_text,
)
from dispatch.admin.routes import bp
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.core import csvsafe
from dispatch.core.audit import record
from dispatch.core.extensions import db
from dispatch.models import AuditEvent, Landlord, User

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000
NBSP = "\u00a0"
LONG_WORD = 16  # characters; a longer word may break (``_breakable``)
_BREAK_AFTER = re.compile(r"(?<=[.:@/])")


class AuditFilter(FlaskForm):
    """The page's filters, from the query string (a GET form: nothing to protect by CSRF)."""

    class Meta:
        csrf = False

    who = StringField(_l("Who (e-mail)"), validators=[Optional()])
    what = SelectField(_l("What"), validators=[Optional()])
    subject = StringField(_l("Subject"), validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()],
                      render_kw={"type": "date"})
    until = DateField(_l("To"), validators=[Optional()], render_kw={"type": "date"})
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])


def _form() -> AuditFilter:
    form = AuditFilter(formdata=request.args)
    form.what.choices = _what_choices(
        db.session.scalars(select(AuditEvent.action).distinct()).all())
    return form


def _what_choices(actions: list[str]) -> list[SelectChoice]:
    """The "What" filter: each kind of action (all of it, or one action of the kind that the
    log holds), in words, alphabetically, one option group per kind."""
    by_group: dict[str, set[str]] = {group: set() for group in GROUP_NAMES}
    for action in actions:
        group, dot, _rest = action.partition(".")
        by_group.setdefault(group, set())
        if dot:
            by_group[group].add(action)
    choices = [SelectChoice("", "—")]
    for name, group in sorted((group_name(g), g) for g in by_group):
        choices.append(SelectChoice(group, _("%(kind)s: all", kind=name), optgroup=name))
        choices += [SelectChoice(action, label, optgroup=name) for label, action in
                    sorted((action_name(a), a) for a in by_group[group])]
    return choices


def _selection(form: AuditFilter):
    """The audit lines the (valid) filters select, newest first, with who did it."""
    actor = aliased(User)
    query = select(AuditEvent, actor.email).outerjoin(actor, actor.id == AuditEvent.user_id)
    who = (form.who.data or "").strip().lower()
    if who:
        query = query.where(func.lower(actor.email).contains(who, autoescape=True))
    what = form.what.data or ""
    if what:
        query = query.where(or_(AuditEvent.action == what,
                                AuditEvent.action.startswith(what + ".", autoescape=True)))
    subject = (form.subject.data or "").strip()
    if subject:
        query = query.where(AuditEvent.subject.contains(subject, autoescape=True))
    tz = service_zone()
    if form.since.data:
        query = query.where(AuditEvent.at >= _start_of(form.since.data, tz))
    if form.until.data:
        query = query.where(AuditEvent.at < _start_of(form.until.data + timedelta(days=1), tz))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _start_of(day: date, tz) -> datetime:
    """Midnight of ``day`` in the service's time zone (UTC, aware, as the log's column)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _filters(form: AuditFilter) -> dict:
    """The filters in force, for the links (pages, CSV) and the audit line of the read."""
    values = {"who": (form.who.data or "").strip(), "what": form.what.data or "",
              "subject": (form.subject.data or "").strip(),
              "since": form.since.data.isoformat() if form.since.data else "",
              "until": form.until.data.isoformat() if form.until.data else ""}
    return {k: v for k, v in values.items() if v}


def _as_logged(filters: dict) -> dict:
    """The filters as the line of the read keeps them: a personal identity number or a phone
    number someone typed into "who" or "subject" is not written to the log."""
    return {key: masked(value) if key in ("who", "subject") else value
            for key, value in filters.items()}


def service_zone() -> ZoneInfo:
    """The service's time zone (DISPATCH_TZ): the filter's days and the times shown."""
    return ZoneInfo(current_app.config["DISPATCH_TZ"])


def _details(event: AuditEvent) -> str:
    """The details as the CSV holds them: JSON, for support staff and spreadsheets."""
    return json.dumps(event.details, ensure_ascii=False, sort_keys=True) if event.details else ""


def _landlord_codes(events) -> dict[str, str]:
    """The codes of the landlords some lines name by id ("landlord:3", ``landlord_id``)."""
    ids = set()
    for event in events:
        kind, _sep, value = (event.subject or "").partition(":")
        if kind in ("landlord", "landlord-id") and value.isdigit():
            ids.add(int(value))
        if isinstance(landlord_id := (event.details or {}).get("landlord_id"), int):
            ids.add(landlord_id)
    if not ids:
        return {}
    found = db.session.execute(select(Landlord.id, Landlord.code).where(Landlord.id.in_(ids)))
    return {str(landlord_id): code for landlord_id, code in found}


def _when(at: datetime) -> str:
    """A line's time, short and on one line ("26 nov. 2026 23:03": no break spaces)."""
    return f"{format_date(at, 'medium')} {format_time(at, 'HH:mm')}".replace(" ", NBSP)


def _breakable(text: str | None) -> Markup:
    """Text whose long words (an e-mail, a code, an IPv6 address) may break after a dot,
    colon, @ or slash, so that the table fits its card; short ones ("127.0.0.1", "27. marras-
    kuuta") stay whole."""
    return Markup("").join(  # join escapes each plain piece
        Markup("<wbr>").join(_BREAK_AFTER.split(word)) if len(word) > LONG_WORD else word
        for word in re.split(r"(\s+)", text or ""))


def _shown(rows) -> dict:
    """What the page's lines need to say their codes in words."""
    landlords = _landlord_codes(event for event, _email in rows)
    return {
        "action_name": action_name,
        "subject_text": lambda subject: subject_text(subject, landlords),
        "detail_pairs": lambda details: detail_pairs(details, landlords),
        "when": _when,
        "when_full": lambda at: format_datetime(at, "yyyy-MM-dd HH:mm:ss"),
        "breakable": _breakable,
        "masked": masked,
    }


def _refused(form: AuditFilter):
    """The page for filters that are not valid: their errors, and no lines."""
    return render_template("admin/audit.html", form=form, rows=[], page=1, pages=0,
                           total=0, filters=_filters_raw(), **_shown([])), 400


@bp.get("/audit")
@roles_required("admin")
def audit_log():
    """The audit log, filtered by who, what, subject and time, newest first, a page at a time.
    A filter that is not valid (a date that is no date) is said next to its field and the
    page shows nothing rather than everything."""
    form = _form()
    if not form.validate():
        return _refused(form)
    query = _selection(form)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(form.page.data or 1, pages)
    rows = db.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    filters = _filters(form)
    record(db.session, "audit.read", user_id=current_user.id, ip=client_ip(),
           details={**_as_logged(filters), "page": page, "count": len(rows)})
    return render_template("admin/audit.html", form=form, rows=rows, page=page, pages=pages,
                           total=total, filters=filters, **_shown(rows))


def _filters_raw() -> dict:
    return {k: v for k in ("who", "what", "subject", "since", "until")
            if (v := request.args.get(k, "").strip())}


@bp.get("/audit.csv")
@roles_required("admin")
def audit_export():
    """The selected audit lines as CSV (semicolons, UTF-8 with BOM), newest first."""
    form = _form()
    if not form.validate():
        return _refused(form)
    rows = db.session.execute(_selection(form).limit(EXPORT_MAX_ROWS)).all()
    tz = service_zone()
    out = io.StringIO()
    writer = csvsafe.writer(out, delimiter=";")
    writer.writerow([str(_l("When")), str(_l("Who")), str(_l("What")), str(_l("Subject")),
                     str(_l("Address")), str(_l("Details"))])
    for event, email in rows:
        writer.writerow([event.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                         email or "", event.action, event.subject or "", event.ip or "",
                         _details(event)])
    filters = _filters(form)
    record(db.session, "audit.export", user_id=current_user.id, ip=client_ip(),
           details={**_as_logged(filters), "count": len(rows), "format": "csv"})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"',
                             "Cache-Control": "private, no-store"})
