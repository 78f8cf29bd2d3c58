"""The admin page for register imports: upload form, history, one import, its error report."""

import io
import re

import pytest
from flask_babel import refresh
from playwright.sync_api import expect

from imports.service import import_register

CSV = (
    "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon\n"
    "A-1;Götgatan 12B;118 46;Stockholm;1102;59,3121;18,0713\n"
    "A-2;Götgatan 12 b;118 46;Stockholm;1202;;\n"
)


@pytest.fixture
def admin(auth, create_user):
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    return auth


def test_only_admins_reach_the_import_page(auth, client, create_user):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert client.get("/admin/imports").status_code == 403


def test_upload_without_landlord_or_file_shows_what_is_missing(admin, client, create_landlord):
    create_landlord(code="ACME", name="Acme Bostäder")
    response = client.post("/admin/imports", data={"csrf_token": admin.csrf_token("/admin/imports"),
                                                   "landlord": "", "dry_run": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Välj en hyresvärd." in page and "Välj filen som ska importeras." in page
    assert re.search(r'<input checked id="dry_run" name="dry_run"', page)  # ticked stays ticked


def test_upload_of_another_kind_of_file_is_refused_and_keeps_the_landlord(
    admin, client, create_landlord
):
    create_landlord(code="ACME", name="Acme Bostäder")
    response = client.post("/admin/imports", content_type="multipart/form-data", data={
        "csrf_token": admin.csrf_token("/admin/imports"), "landlord": "ACME",
        "file": (io.BytesIO(b"%PDF-1.4"), "register.pdf"),
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Bara CSV- och XLSX-filer kan importeras." in page
    assert '<option selected value="ACME">' in page


def test_history_and_detail_show_counts_and_the_error_report_downloads_again(
    admin, client, create_landlord, db_session, tmp_path
):
    landlord = create_landlord(code="ACME", name="Acme Bostäder")
    path = tmp_path / "acme.csv"
    rows = "".join(f"A-{n};Götgatan {n};118 46;Stockholm;1102;;\n" for n in range(3, 40))
    path.write_text(CSV + rows + "A-99;Götgatan 9;1184;Stockholm;1102;;\n", encoding="utf-8")
    summary = import_register(db_session, landlord, path, actor="admin@example.se")
    assert summary.status == "accepted" and summary.skipped == 1
    history = client.get("/admin/imports").get_data(as_text=True)
    assert "acme.csv" in history and "Importerad" in history
    detail = client.get(f"/admin/imports/{summary.import_id}").get_data(as_text=True)
    assert 'id="added">39<' in detail
    assert "inte fem siffror: &#39;1184&#39;" in detail
    report = client.get(f"/admin/imports/{summary.import_id}/errors.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    assert report.get_data(as_text=True).lstrip("\ufeff").splitlines()[:2] == [
        "rad;kolumn;fel", "41;postnummer;inte fem siffror: '1184'"]


def _retire_most(db_session, landlord, tmp_path):
    """A register of 10, then a file of 2 of them: refused, it would retire 8 of 10."""
    lines = "".join(f"A-{n};Götgatan {n};118 46;Stockholm;1102;;\n" for n in range(1, 11))
    first, second = tmp_path / "full.csv", tmp_path / "cut.csv"
    first.write_text(CSV.splitlines(keepends=True)[0] + lines, encoding="utf-8")
    second.write_text(CSV.splitlines(keepends=True)[0] + "".join(lines.splitlines(
        keepends=True)[:2]), encoding="utf-8")
    assert import_register(db_session, landlord, first, actor="t").status == "accepted"
    summary = import_register(db_session, landlord, second, actor="t")
    assert (summary.status, summary.reason) == ("rejected", "too_many_retired")
    return summary


@pytest.mark.parametrize(("lang", "words"), [
    ("sv", ["filen skulle avregistrera 8 av 10 objekt (80 %, mer än 20 %)",
            "kryssa i ”Importera även om mer än en femtedel av registret skulle avregistreras”"]),
    ("fi", ["tiedosto poistaisi käytöstä 8/10 kohteesta (80 %, yli 20 %)",
            "valitse ”Tuo, vaikka yli viidennes rekisteristä poistuisi käytöstä”"]),
    ("en", ["the file would retire 8 of 10 objects (80 %, more than 20 %)",
            "tick “Import even if more than a fifth of the register would be retired”"]),
])
def test_a_refused_import_is_explained_in_the_page_language_and_points_at_the_check_box(
        admin, client, create_landlord, db_session, tmp_path, lang, words):
    summary = _retire_most(db_session, create_landlord(code="ACME"), tmp_path)
    refresh()  # the test's app context outlives requests: forget the log-in's language

    detail = client.get(f"/admin/imports/{summary.import_id}?lang={lang}").get_data(as_text=True)

    for word in words:
        assert word in detail
    assert "--force" not in detail


def test_the_cli_names_force_for_the_same_refusal(db_session, create_landlord, tmp_path, app):
    from imports.messages import localise

    summary = _retire_most(db_session, create_landlord(code="ACME"), tmp_path)
    with app.test_request_context("/"):
        from flask_babel import force_locale

        with force_locale("sv"):
            said = localise(summary.message)
    assert said.endswith("Kontrollera exporten, eller importera med --force.")


def test_unknown_run_token_is_not_found(admin, client):
    assert client.get("/admin/imports/run/deadbeef").status_code == 404
    assert client.get("/admin/imports/run/../../etc.json").status_code == 404


@pytest.mark.browser
def test_admin_uploads_a_register_sees_progress_then_the_summary(live_server, page, tmp_path):
    path = tmp_path / "acme-register.csv"
    path.write_text(CSV, encoding="cp1252")
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_label("E-post")).to_be_focused()
    page.get_by_label("E-post").fill("admin@live.example.se")
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.get_by_label("Lösenord").press("Enter")
    page.get_by_role("link", name="Registerimport").click()
    page.get_by_label("Hyresvärd").select_option("ACME")
    page.get_by_label("Registerfil (CSV eller XLSX)").set_input_files(str(path))
    page.get_by_role("button", name="Importera").click()
    # The import runs in a process of its own: on a busy machine it takes a while to start.
    expect(page.get_by_role("heading", name="Import av acme-register.csv")).to_be_visible(
        timeout=60_000)
    expect(page.locator("#added")).to_have_text("2")
    expect(page.get_by_text("Importerad")).to_be_visible()
    page.get_by_role("link", name="Tillbaka till registerimport").click()
    expect(page.get_by_role("cell", name="acme-register.csv")).to_be_visible()


@pytest.mark.browser
def test_a_rejected_upload_is_explained_in_swedish_and_in_finnish(live_server, page, tmp_path):
    path = tmp_path / "utan-ort.csv"
    rows = "".join(f"B-{n};Götgatan {n};118 46\n" for n in range(1, 6))
    path.write_text("objektsnummer;gatuadress;postnummer;Kommun\n" + rows, encoding="utf-8")
    page.goto(f"{live_server.url}/login")
    page.get_by_label("E-post").fill("admin@live.example.se")
    page.get_by_label("Lösenord").fill("correct horse battery")
    page.get_by_label("Lösenord").press("Enter")
    page.goto(f"{live_server.url}/admin/imports?lang=fi")
    page.get_by_label("Vuokranantaja").select_option("ACME")
    page.get_by_label(re.compile("Rekisteritiedosto")).set_input_files(str(path))
    page.get_by_role("button", name="Tuo", exact=True).click()

    heading = page.get_by_role("heading", name=re.compile("utan-ort.csv"))
    expect(heading).to_be_visible(timeout=60_000)
    message = page.locator("#message")
    expect(message).to_have_text("pakollinen sarake puuttuu: ort")
    page.screenshot(path="/tmp/h4/rejected-fi.png")

    page.goto(page.url.split("?")[0] + "?lang=sv")
    expect(message).to_have_text("obligatorisk kolumn saknas: ort")
    expect(page.get_by_text("Avvisad: ingenting ändrades")).to_be_visible()


def test_a_refused_dry_run_says_nothing_was_changed_once(admin, client, create_landlord,
                                                         db_session, tmp_path):
    landlord = create_landlord(code="ACME")
    _retire_most(db_session, landlord, tmp_path)
    summary = import_register(db_session, landlord, tmp_path / "cut.csv", actor="t",
                              dry_run=True)
    assert summary.status == "rejected"
    refresh()
    detail = client.get(f"/admin/imports/{summary.import_id}?lang=sv").get_data(as_text=True)
    assert "Avvisad: ingenting ändrades</strong> (provkörning)" in detail
    assert detail.count("ingenting ändrades") == 1
