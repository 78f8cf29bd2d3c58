"""What an import says is kept language-neutral and translated where it is shown (issue 13):
``imports.messages``. Every template is in the Swedish and Finnish catalogs, reads back from
its own text, and comes out with Babel's numbers and the right plural."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from imports import messages
from imports.messages import TEMPLATES, localise, parse, text


def _sample(template):
    """The template's text with a value for each parameter."""
    form = template if isinstance(template, str) else template[1]
    names = re.findall(r"%\((\w+)\)s", form)
    values = {name: {"share": "6.0%", "limit": "5%", "when": "2026-11-25 21:05"}.get(name, "7")
              for name in names}
    return text(template, 7, **values)


@pytest.fixture
def in_request(app):
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize("template", [t for t, _ in TEMPLATES], ids=str)
def test_every_template_reads_back_from_its_own_text(template):
    found = parse(_sample(template))
    assert found is not None and found[0] == template


@pytest.mark.parametrize("locale", ["sv", "fi"])
@pytest.mark.parametrize("template", [t for t, _ in TEMPLATES], ids=str)
def test_every_template_is_translated_into_swedish_and_finnish(in_request, locale, template):
    sample = _sample(template)
    with force_locale(locale):
        shown = localise(sample)
    assert shown != sample, f"untranslated in {locale}"
    assert "%(" not in shown


@pytest.mark.parametrize(("errors", "sv", "fi"), [
    (1, "1 av 20 rader har fel (5,0 %, mer än 5 %)", "1/20 rivistä on virheellinen"),
    (2, "2 av 20 rader har fel (10,0 %, mer än 5 %)", "2/20 rivistä on virheellisiä"),
])
def test_counts_take_the_plural_they_need(in_request, errors, sv, fi):
    said = text(TEMPLATES[18][0], errors, skipped=errors, rows=20,
                share=f"{errors / 20:.1%}", limit="5%")
    with force_locale("sv"):
        assert localise(said) == sv
    with force_locale("fi"):
        assert localise(said).startswith(fi)


def test_one_missing_column_is_singular_and_two_are_plural(in_request):
    one = text(TEMPLATES[16][0], 1, columns="ort")
    two = text(TEMPLATES[16][0], 2, columns="ort, postnummer")
    assert (one, two) == ("required column missing: ort",
                          "required columns missing: ort, postnummer")
    with force_locale("sv"):
        assert localise(one) == "obligatorisk kolumn saknas: ort"
        assert localise(two) == "obligatoriska kolumner saknas: ort, postnummer"


def test_large_numbers_are_grouped_as_the_language_writes_them(in_request):
    said = "The file has more than 2000000 rows."
    with force_locale("sv"):
        assert localise(said) == "Filen har fler än 2\u00a0000\u00a0000 rader."
    with force_locale("en"):
        assert localise(said) == "The file has more than 2,000,000 rows."


def test_the_web_names_its_check_box_and_the_cli_names_force(in_request):
    said = text(messages.RETIRE_ID, 10, retired=8, total=10, share="80%", limit="20%")
    with force_locale("fi"):
        assert "--force" not in localise(said, web=True)
        assert localise(said).endswith("--force.")
    # A record kept before the hint moved to where it is shown reads the same way.
    older = "the file would retire 8 of 10 objects (80%, more than 20%); check the export, " \
            "or import with --force"
    with force_locale("sv"):
        assert "--force" not in localise(older, web=True)


def test_a_text_no_template_made_is_shown_as_it_is(in_request):
    with force_locale("fi"):
        assert localise("the stage process ended early (exit 1)") == (
            "the stage process ended early (exit 1)")
        assert localise(None) is None
