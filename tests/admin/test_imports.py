"""The admin page for register imports: upload form, history, one import, its error report."""

import io
import re

import pytest
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
    assert "not five digits" in detail
    report = client.get(f"/admin/imports/{summary.import_id}/errors.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    assert report.get_data(as_text=True).splitlines()[1] == "41;postnummer;not five digits: '1184'"


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
    expect(page.get_by_role("heading", name="Import av acme-register.csv")).to_be_visible()
    expect(page.locator("#added")).to_have_text("2")
    expect(page.get_by_text("Importerad")).to_be_visible()
    page.get_by_role("link", name="Tillbaka till registerimport").click()
    expect(page.get_by_role("cell", name="acme-register.csv")).to_be_visible()
