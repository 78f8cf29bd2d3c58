"""A report as PDF (fpdf2), for the landlord to keep and to show at the rent tribunal.

DejaVu Sans (Debian's fonts-dejavu-core) has å, ä and ö and every other letter a Swedish or
Finnish report may hold; without it the PDF falls back to a core font and Latin-1.

Tagged for a screen reader (issue 18): the document language (``/Lang``), its title shown as
the window title, ``/MarkInfo`` and a structure tree (``/StructTreeRoot``) whose elements are,
in reading order, the title (``H1``), the landlord and address and each field (``P``) and the
two section headings (``H2``); each is marked content of the page it stands on (a row never
breaks across pages; a text too long for one page is split into paragraphs at page ends). The
footer and the heading rules are artifacts. The headings are bookmarks too. What fpdf2 (2.8)
cannot write: a nested tree (its builder hangs every element under ``Document``), so a field
is a paragraph "label value" rather than a table row with a header cell; and no PDF/UA claim.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF, ViewerPreferences
from fpdf.enums import MethodReturnValue

from dispatch.reports.labels import (
    FIELD_NAMES,
    as_shown,
    call_line,
    local,
    step_name,
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
        with self.artifact():
            self.set_y(-12)
            self.set_font(self.body_family, "", 8)
            self.cell(0, 5, self.text_of(f"{self.footer_text} · {self.page_no()}/{{nb}}"),
                      align="C")

    # -- tagging (fpdf2 marks content only for images' alt texts: the same calls, any tag) --
    @contextmanager
    def tagged(self, tag: str):
        """What is drawn inside is one structure element ``tag`` (H1, H2, P) of this page."""
        mcid = self.struct_builder.next_mcid_for_page(self.page)
        self._add_marked_content(struct_type=f"/{tag}", mcid=mcid)
        self._out(f"/{tag} <</MCID {mcid}>> BDC")
        yield
        self._out("EMC")

    @contextmanager
    def artifact(self):
        """What is drawn inside is decoration (footer, rules), not read."""
        self._out("/Artifact BMC")
        yield
        self._out("EMC")

    def room(self) -> float:
        return self.page_break_trigger - self.get_y()

    def keep(self, height: float) -> None:
        """A new page first unless ``height`` fits on this one (a marked element stays on
        one page)."""
        if height > self.room() and self.get_y() > self.t_margin + 1:
            self.add_page()


def render(doc: dict, tz: ZoneInfo, *, printed_at: str, daytime_contact: str = "") -> bytes:
    """The report's PDF bytes (labels in the current language). A field an operator
    corrected is followed by that mark and what the patrol wrote first."""
    title = _("Incident report %(id)s", id=doc["id"])
    pdf = _Pdf(f"Störningsjouren · {title} · {printed_at}")
    pdf.set_title(title)
    pdf.set_lang(str(get_locale() or "sv"))
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_author("Störningsjouren")
    pdf.set_creator("Störningsjouren")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    shown = as_shown(doc, tz)

    pdf.start_section(title, level=0)  # a bookmark; the text below is the H1
    with pdf.tagged("H1"):
        pdf.set_font(pdf.body_family, "B", 16)
        pdf.multi_cell(width, 8, pdf.text_of(title), new_x="LMARGIN", new_y="NEXT")
    with pdf.tagged("P"):
        pdf.set_font(pdf.body_family, "", 11)
        pdf.multi_cell(width, 6, pdf.text_of(f"{doc['landlord']['name']} · {doc['address']}"),
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    def row(label, value) -> None:
        """One field: the label in bold beside the value, one paragraph of the page it is
        on; a value longer than a page goes on as further paragraphs after each break."""
        if value in (None, ""):
            return
        pdf.set_font(pdf.body_family, "", 10)
        lines = pdf.multi_cell(width - 55, 6, pdf.text_of(value), dry_run=True,
                               output=MethodReturnValue.LINES)
        # A label longer than its column (Finnish ones are) wraps within it, beside the value.
        pdf.set_font(pdf.body_family, "B", 10)
        label_lines = pdf.multi_cell(53, 6, pdf.text_of(label), dry_run=True,
                                     output=MethodReturnValue.LINES)
        first = True
        while lines:
            pdf.keep(max(min(len(lines), 3), len(label_lines) if first else 1) * 6)
            fit = max(1, min(len(lines), int(pdf.room() // 6)))
            part, lines = lines[:fit], lines[fit:]
            with pdf.tagged("P"):
                top = pdf.get_y()
                below_label = top
                if first:
                    pdf.set_font(pdf.body_family, "B", 10)
                    pdf.multi_cell(53, 6, "\n".join(label_lines), new_x="LMARGIN", new_y="NEXT")
                    below_label = pdf.get_y()
                pdf.set_xy(pdf.l_margin + 55, top)
                pdf.set_font(pdf.body_family, "", 10)
                pdf.multi_cell(width - 55, 6, pdf.text_of("\n".join(part)),
                               new_x="LMARGIN", new_y="NEXT")
                pdf.set_y(max(pdf.get_y(), below_label))
            first = False

    def heading(text) -> None:
        pdf.ln(2)
        pdf.keep(7 + 1 + 6)  # the heading with its first row
        pdf.start_section(text, level=1)
        with pdf.tagged("H2"):
            pdf.set_font(pdf.body_family, "B", 12)
            pdf.cell(0, 7, pdf.text_of(text), new_x="LMARGIN", new_y="NEXT")
        with pdf.artifact():
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
        row(step_name(step), local(step["at"], tz) or "–")  # alarms, check-ins: issue 19
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
        contact = pdf.text_of(_("Questions about the report in the daytime: %(contact)s",
                                contact=daytime_contact))
        pdf.keep(len(pdf.multi_cell(width, 6, contact, dry_run=True,
                                    output=MethodReturnValue.LINES)) * 6)
        with pdf.tagged("P"):
            pdf.multi_cell(width, 6, contact, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
