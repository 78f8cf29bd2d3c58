"""The report's PDF is tagged for a screen reader (issue 18): the document's language and
title, /MarkInfo, and a structure tree whose elements come in reading order (the title as H1,
the sections as H2, each field a paragraph), each one marked content of the page it is on,
and the footer marked as an artifact. Read back with pypdf."""

from __future__ import annotations

import io
import logging
import re

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from dispatch.reports.service import correct_report, release_report
from tests.support.reports_helpers import local

pytest_plugins = ["tests.support.reports"]

MARKED = re.compile(rb"/(\w+) <</MCID (\d+)>> BDC")


def _pdf(client, auth, report_id, lang) -> PdfReader:
    auth.login("kontakt@acme.se")
    with force_locale(lang):  # the test's app context keeps the first request's language
        response = client.get(f"/reports/{report_id}.pdf?lang={lang}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return PdfReader(io.BytesIO(response.data))


def _elements(reader: PdfReader) -> list[tuple[str, int, int]]:
    """The structure elements under /Document, in order: (tag, page index, MCID)."""
    root = reader.trailer["/Root"]
    document = root["/StructTreeRoot"]["/K"][0].get_object()
    assert document["/S"] == "/Document"
    pages = [page.indirect_reference.idnum for page in reader.pages]
    found = []
    for kid in document["/K"]:
        elem = kid.get_object()
        found.append((elem["/S"][1:], pages.index(elem.raw_get("/Pg").idnum), int(elem["/K"][0])))
    return found


def _marked_on(reader: PdfReader, index: int) -> list[tuple[str, int]]:
    data = reader.pages[index].get_contents().get_data()
    return [(tag.decode(), int(mcid)) for tag, mcid in MARKED.findall(data)]


@pytest.fixture
def released(db_session, create_user, acme, make_report):
    report = make_report(acme, at=local(2026, 11, 26, 1, 53), released=None)
    release_report(db_session, report, create_user(role="operator", email="op@jour.se"))
    return report


@pytest.mark.parametrize(("lang", "title"), [("sv", "Händelserapport"),
                                             ("fi", "Tapahtumaraportti")])
def test_the_pdf_names_its_language_and_title_and_is_marked(client, auth, released, lang,
                                                            title):
    reader = _pdf(client, auth, released.id, lang)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == lang
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title.startswith(title), reader.metadata.title
    # The title and the two sections are bookmarks as well.
    assert [item.title for item in reader.outline if not isinstance(item, list)][0] == \
        reader.metadata.title


def test_the_structure_tree_reads_title_then_fields_then_sections_in_page_order(
        client, auth, released):
    reader = _pdf(client, auth, released.id, "sv")
    elements = _elements(reader)
    tags = [tag for tag, _page, _mcid in elements]
    assert tags[0] == "H1" and tags.count("H1") == 1
    assert tags.count("H2") == 2 and set(tags) == {"H1", "H2", "P"}
    assert tags.index("H2") > 3  # the facts come before the time line
    # Each element is marked content, with its tag, on the page it names; in reading order.
    for index in range(len(reader.pages)):
        on_page = [(tag, mcid) for tag, page, mcid in elements if page == index]
        assert _marked_on(reader, index) == on_page
    text = reader.pages[0].extract_text()
    assert text.index(reader.metadata.title) < text.index("Tidslinje")


def test_a_text_longer_than_a_page_goes_on_as_marked_paragraphs_on_the_next_page(
        client, auth, db_session, create_user, acme, make_report):
    report = make_report(acme, at=local(2026, 11, 26, 1, 53), released=None)
    operator = create_user(role="operator", email="op@jour.se")
    long_text = "\n".join(f"Rad {n}: musiken hördes i trapphuset." for n in range(1, 121))
    correct_report(db_session, report, operator, {"text": long_text})
    release_report(db_session, report, operator)
    reader = _pdf(client, auth, report.id, "sv")
    assert len(reader.pages) >= 3
    elements = _elements(reader)
    for index in range(len(reader.pages)):
        data = reader.pages[index].get_contents().get_data()
        assert data.count(b"BDC") + data.count(b"BMC") == data.count(b"EMC")
        assert _marked_on(reader, index) == [(t, m) for t, p, m in elements if p == index]
        assert b"/Artifact BMC" in data  # the footer
    everything = "\n".join(page.extract_text() for page in reader.pages)
    assert "Rad 1:" in everything and "Rad 120:" in everything


def test_a_label_longer_than_its_column_wraps_beside_its_value_and_logs_no_font_lines(
        client, auth, released, caplog):
    caplog.set_level(logging.INFO)
    reader = _pdf(client, auth, released.id, "fi")
    # "Häiriintyneeseen asukkaaseen otettu yhteyttä" is wider than the label's 55 mm: drawn
    # as one line it ran over its value ("Kyllä"). Each piece of it now starts at the left
    # margin and ends before the value's column, and the value starts in its column.
    pieces = []
    reader.pages[0].extract_text(visitor_text=lambda text, cm, tm, font, size: pieces.append(
        (text.strip(), tm[4] * cm[0] + cm[4])))
    left = min(x for t, x in pieces if t)  # the left margin, in points
    label = [(t, x) for t, x in pieces if t and t in "Häiriintyneeseen asukkaaseen otettu yhteyttä"]
    assert " ".join(t for t, _ in label) == "Häiriintyneeseen asukkaaseen otettu yhteyttä", pieces
    assert len(label) > 1 and all(abs(x - left) < 1 for _, x in label)  # wrapped in its column
    values = [x for t, x in pieces if t == "Kyllä"]
    assert values and all(x >= left + 55 * 72 / 25.4 - 1 for x in values)  # in the value's
    assert not [r for r in caplog.records if r.name.startswith("fontTools")]
