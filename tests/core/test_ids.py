"""Ids from outside that no database column can hold are no row: a 404 or a clear 400, never an
overflow deep in the driver (issue 14, finding 8)."""

from __future__ import annotations

import pytest

from dispatch.core.ids import MAX_ID, is_id

HUGE = 10000000000000000001


@pytest.fixture
def operator(create_token):
    token, _user = create_token(role="operator")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", [
    f"/api/v1/entrances/{HUGE}", f"/api/v1/objects/{HUGE}", f"/api/v1/jobs/{HUGE}",
    f"/api/v1/reports/{HUGE}", f"/api/v1/jobs/{MAX_ID + 1}",
])
def test_a_get_of_an_id_past_the_integer_range_is_a_json_404(client, db_session, operator, path):
    response = client.get(path, headers=operator)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_dispatch_of_job_two_to_the_seventieth_is_a_json_404(client, db_session, operator):
    response = client.post(f"/api/v1/jobs/{2**70}/dispatch", json={}, headers=operator)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_largest_id_is_still_looked_up(client, db_session, operator):
    response = client.get(f"/api/v1/jobs/{MAX_ID}", headers=operator)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == f"no job {MAX_ID}"


@pytest.mark.parametrize("value", [2**70, MAX_ID + 1, 0, -1, True, 1.5, "7"])
def test_a_complaint_naming_an_object_id_out_of_range_is_a_400(client, db_session, operator,
                                                                create_landlord, value):
    create_landlord(code="ACME")
    response = client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "ACME", "category": "music", "priority": 2, "object_id": value})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_object_id"


@pytest.mark.parametrize(("value", "expected"), [
    (1, True), (MAX_ID, True), (MAX_ID + 1, False), (0, False), (True, False), (2.0, False),
    ("1", False), (None, False),
])
def test_is_id_takes_only_whole_numbers_a_row_can_have(value, expected):
    assert is_id(value) is expected


def test_report_pages_past_the_range_are_not_found(client, db_session, auth, create_user):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert client.get(f"/reports/{HUGE}").status_code == 404
    assert client.get(f"/reports/{HUGE}.pdf").status_code == 404
