"""A report as PDF (fpdf2), for the landlord to keep and to show at the rent tribunal.

DejaVu Sans (Debian's fonts-dejavu-core) has å, ä and ö and every other letter a Swedish or
Finnish report may hold; without it the PDF falls back to a core font and Latin-1.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from fpdf import FPDF

from dispatch.reports.labels import (
    FIELD_NAMES,
    TIMELINE_NAMES,
    as_shown,
    call_line,
    local,
    value_shown,
)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class _Pdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text
        if (FONT_DIR / "DejaVuSans.ttf").exists():
            self.add_font("body", "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.body_family, self.has_unicode = "body", True
        else:
            self.body_family, self.has_unicode = "helvetica", False

    def text_of(self, value) -> str:
        text = "" if value is None else str(value)
        return text if self.has_unicode else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_family, "", 8)
        self.cell(0, 5, self.text_of(f"{self.footer_text} · {self.page_no()}/{{nb}}"),
                  align="C")


def render(doc: dict, tz: ZoneInfo, *, printed_at: str, daytime_contact: str = "") -> bytes:
    """The report's PDF bytes (labels in the current language). A field an operator
    corrected is followed by that mark and what the patrol wrote first."""
    title = _("Incident report %(id)s", id=doc["id"])
    pdf = _Pdf(f"Störningsjouren · {title} · {printed_at}")
    pdf.set_title(title)
    pdf.set_author("Störningsjouren")
    pdf.set_creator("Störningsjouren")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    shown = as_shown(doc, tz)

    pdf.set_font(pdf.body_family, "B", 16)
    pdf.multi_cell(width, 8, pdf.text_of(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.body_family, "", 11)
    pdf.multi_cell(width, 6, pdf.text_of(f"{doc['landlord']['name']} · {doc['address']}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def row(label, value) -> None:
        if value in (None, ""):
            return
        pdf.set_font(pdf.body_family, "B", 10)
        pdf.cell(55, 6, pdf.text_of(label))
        pdf.set_font(pdf.body_family, "", 10)
        pdf.multi_cell(width - 55, 6, pdf.text_of(value), new_x="LMARGIN", new_y="NEXT")

    def heading(text) -> None:
        pdf.ln(2)
        pdf.set_font(pdf.body_family, "B", 12)
        pdf.cell(0, 7, pdf.text_of(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(180, 180, 180)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1)

    def corrected(name) -> None:
        fix = doc["corrections"].get(name)
        if fix is None:
            return
        by = f" ({fix['by']})" if fix.get("by") else ""
        pdf.set_text_color(122, 72, 0)
        row("", f"{FIELD_NAMES['corrected']}{by}, {local(fix['at'], tz)}")
        row("", f"{FIELD_NAMES['original']}: {value_shown(name, fix['original'], tz) or '–'}")
        pdf.set_text_color(0, 0, 0)

    row(FIELD_NAMES["night"], shown["night"])
    row(FIELD_NAMES["case"], doc["case"])
    row(FIELD_NAMES["landlord"], f"{doc['landlord']['name']} ({doc['landlord']['code']})")
    for name in ("property", "address", "lagenhetsnummer", "objektsnummer", "category",
                 "description", "disturbed_party", "suspected_source", "patrol", "crew"):
        row(FIELD_NAMES[name], shown[name])

    heading(_("Time line"))
    for step in doc["timeline"]:
        row(TIMELINE_NAMES[step["event"]], shown[step["event"]] or "–")
        corrected({"arrived": "arrived_at", "left": "left_at"}.get(step["event"], ""))
    if doc["call_attempts"]:
        row(FIELD_NAMES["call_attempts"], shown["call_attempts"])
        for attempt in doc["call_attempts"]:
            row("", call_line(attempt, tz))

    heading(_("The patrol's documentation"))
    for name in ("outcome", "observations", "disturber_reached", "disturber_response",
                 "tenant_contacted", "actions", "can_testify", "text"):
        row(FIELD_NAMES[name], shown[name] or ("–" if name in doc["corrections"] else ""))
        corrected(name)
    row(FIELD_NAMES["witnesses"], shown["witnesses"])
    row(FIELD_NAMES["written_by"], shown["written_by"])
    pdf.ln(2)
    row(FIELD_NAMES["released_at"], shown["released_at"])
    if daytime_contact:
        pdf.ln(4)
        pdf.set_font(pdf.body_family, "", 10)
        pdf.multi_cell(width, 6, pdf.text_of(
            _("Questions about the report in the daytime: %(contact)s",
              contact=daytime_contact)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
