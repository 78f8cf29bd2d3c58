"""Review and release: an operator corrects a report (each change recorded with its old and new
value), releases it to the landlord, and from then on it is read-only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dispatch.jobs.dispatching import DispatchError
from dispatch.models import AuditEvent, Job, ReportRevision
from dispatch.reports.service import ReportError, correct_report, release_report, submit_report
from tests.support.reports_helpers import forget_request_state, local

pytest_plugins = ["tests.support.reports"]


@pytest.fixture
def waiting(create_landlord, make_report):
    return make_report(create_landlord(), at=local(2026, 1, 14, 23, 0), released=None)


def test_a_correction_records_who_changed_which_field_from_what_to_what(
        db_session, create_user, waiting):
    operator = create_user(role="operator")
    before = waiting.text
    revision = correct_report(db_session, waiting, operator,
                              {"text": "Rättad text.", "outcome": "not_stopped",
                               "observations": waiting.observations})
    assert revision.user_id == operator.id and revision.action == "corrected"
    assert revision.changes == {"text": [before, "Rättad text."],
                                "outcome": ["stopped", "not_stopped"]}
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "report.corrected"))
    assert audit.details == {"fields": ["outcome", "text"]} and audit.user_id == operator.id
    assert correct_report(db_session, waiting, operator, {"text": "Rättad text."}) is None


def test_a_released_report_is_read_only_for_operators_and_patrols(
        db_session, create_user, waiting):
    operator = create_user(role="operator")
    release_report(db_session, waiting, operator)
    with pytest.raises(ReportError) as refused:
        correct_report(db_session, waiting, operator, {"text": "Ändrad efteråt."})
    assert refused.value.code == "report_released"
    job = db_session.get(Job, waiting.job_id)
    with pytest.raises(DispatchError) as again:  # the patrol sending its report again
        submit_report(db_session, job, patrol_id=job.patrol_id,
                      data={"outcome": "stopped", "text": "Ny"})
    assert again.value.code == "report_released"


def test_operator_corrects_and_releases_through_the_review_page(
        client, auth, db_session, create_user, waiting):
    create_user(role="operator", email="op@jour.se")
    auth.login("op@jour.se")
    queue = client.get("/reports/review").get_data(as_text=True)
    assert f"/reports/{waiting.id}/edit" in queue
    form = client.get(f"/reports/{waiting.id}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    answer = client.post(f"/reports/{waiting.id}/edit", data={
        "csrf_token": token, "observations": waiting.observations,
        "disturber_response": waiting.disturber_response, "actions": waiting.actions,
        "text": "Granskad text.", "outcome": "stopped", "disturber_reached": "yes",
        "tenant_contacted": "yes", "can_testify": "no", "release": "1"})
    assert answer.status_code == 302
    db_session.refresh(waiting)
    assert waiting.status == "released" and waiting.text == "Granskad text."
    assert waiting.can_testify is False
    actions = db_session.scalars(select(ReportRevision.action).where(
        ReportRevision.report_id == waiting.id).order_by(ReportRevision.id)).all()
    assert actions == ["corrected", "released"]
    assert f"/reports/{waiting.id}/edit" not in client.get("/reports/review").get_data(True)
    # A released report's edit page only shows it.
    assert client.get(f"/reports/{waiting.id}/edit").status_code == 302


def _bearer(token: str) -> dict:
    forget_request_state()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_releases_a_report_for_an_operator_and_refuses_a_landlord(
        client, db_session, create_token, waiting):
    from dispatch.models import Landlord

    landlord = db_session.get(Landlord, waiting.landlord_id)
    contact_token, _ = create_token(role="landlord", landlord=landlord)
    operator_token, operator = create_token(role="operator")
    refused = client.post(f"/api/v1/reports/{waiting.id}/release",
                          headers=_bearer(contact_token))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    answer = client.post(f"/api/v1/reports/{waiting.id}/release",
                         headers=_bearer(operator_token))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "released" and body["released_at"]
    again = client.post(f"/api/v1/reports/{waiting.id}/release",
                        headers=_bearer(operator_token)).get_json()
    assert again["released_at"] == body["released_at"]
    assert client.post("/api/v1/reports/999999/release",
                       headers=_bearer(operator_token)).status_code == 404
    # Now the landlord reads it.
    mine = client.get(f"/api/v1/reports/{waiting.id}", headers=_bearer(contact_token))
    assert mine.status_code == 200 and mine.get_json()["id"] == waiting.id


def test_the_openapi_document_describes_the_report_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/reports", "/reports/{id}", "/reports/{id}/release"} <= set(paths)
