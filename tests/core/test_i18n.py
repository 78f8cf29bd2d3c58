"""Languages: Swedish by default, English and Finnish complete, catalogs compiled."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import dispatch

PACKAGE = Path(dispatch.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2"),
                  ("**/templates/**.txt", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(PACKAGE), method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _singular(message_id):
    return message_id if isinstance(message_id, str) else message_id[0]


def _all_there(string) -> bool:
    return bool(string) and (isinstance(string, str) or all(string))


def _key(value):
    return value if isinstance(value, str) else tuple(value)


@pytest.mark.parametrize("locale", ["sv", "fi"])
def test_every_message_in_the_code_is_translated(locale):
    with open(PACKAGE / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    # A plural form is translated when every one of its forms is (its id: the singular).
    translated = {_singular(m.id) for m in catalog
                  if m.id and _all_there(m.string) and not m.fuzzy}
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"untranslated in {locale}: {missing} (run scripts/i18n)"


@pytest.mark.parametrize("locale", ["sv", "fi"])
def test_compiled_catalog_matches_its_source(locale):
    folder = PACKAGE / "translations" / locale / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as f:
        po = {_key(m.id): _key(m.string) for m in read_po(f) if m.id and _all_there(m.string)}
    with open(folder / "messages.mo", "rb") as f:
        mo = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    assert mo == po, "messages.mo is stale: run scripts/i18n"


def test_login_page_speaks_swedish_without_a_choice(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page and "Lösenord" in page


@pytest.mark.parametrize(
    ("lang", "words"), [("en", ["Log in", "Password"]), ("fi", ["Kirjaudu sisään", "Salasana"])]
)
def test_choosing_a_language_sticks_for_the_session(client, lang, words):
    client.get(f"/login?lang={lang}")
    page = client.get("/login").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    for word in words:
        assert word in page


def test_the_language_links_keep_the_pages_query(client):
    page = client.get("/login?next=/console/&lang=sv").get_data(as_text=True)
    assert 'href="?next=%2Fconsole%2F&amp;lang=en"' in page
    assert 'href="?next=%2Fconsole%2F&amp;lang=fi"' in page
