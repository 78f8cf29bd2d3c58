"""The API against its own OpenAPI document (issue 14): schemathesis sends every operation of
``/api/v1/openapi.json`` a bounded number of generated requests, valid and invalid, as an
operator with a bearer token, on a database with a landlord, its register, cars and a job, and
checks that none is a server error and that every answer's status, content type, headers and
body are the ones the document describes, methods the path lacks included (405 with Allow)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from dispatch.api.openapi import document
from dispatch.models import Patrol, utcnow
from tests.support.factories import flat_row

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, unsupported_method]

# The document the app serves, built by the same function (schemathesis' loading from a
# fixture does not work with pytest 9); the served copy is checked to be this one below.
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def operator(create_token):
    token, _user = create_token(role="operator")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(client, operator, create_landlord, build_register, db_session):
    """Something for the lists and searches to answer with: a register, two cars, a job."""
    landlord = create_landlord(code="ACME", oncall_numbers=["08-46 500 401"])
    build_register(landlord, [
        flat_row("Götgatan 12B", "1102", portkod="4711", lat="59.3121", lon="18.0713",
                 hyresgast_namn="Anna Andersson", hyresgast_telefon="070-174 06 05"),
        flat_row("Götgatan 12B", "1202", hyresgast_namn="Bo Ek")])
    db_session.add_all([
        Patrol(call_sign="Jour 11", name="Jour 11", status="available", lat=59.3140,
               lon=18.0720, position_at=utcnow()),
        Patrol(call_sign="Jour 12", name="Jour 12")])
    db_session.flush()
    [hit, *_] = client.get("/api/v1/addresses/search?q=Götgatan 12B lgh 1102",
                           headers=operator).get_json()
    job = client.post("/api/v1/complaints", headers=operator, json={
        "landlord": "ACME", "object_id": hit["object_id"], "category": "music"})
    assert job.status_code == 201


@schema.parametrize()
# Derandomised: every run sends the same requests, so a red CI is reproducible here (a fixed
# seed, not a new draw each run); a new route or schema change still draws new cases.
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_answers_as_the_document_says(app, case, operator, request):
    if case.method == "GET" and "{" not in case.path:  # a list or a search: give it rows
        request.getfixturevalue("world")
    case.call_and_validate(app=app, headers=operator, checks=CHECKS)


def test_the_document_tested_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").get_json() == document()


def test_every_api_route_is_in_the_document(app):
    paths = document()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api_boom":  # a test's
            continue
        path = re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule.removeprefix("/api/v1"))
        missing += [f"{method} {path}" for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
                    if method.lower() not in paths.get(path, {})]
    assert missing == []


def test_every_operation_documents_405_with_allow_and_503(app):
    responses = document()["components"]["responses"]
    assert responses["MethodNotAllowed"]["headers"]["Allow"]["required"] is True
    assert responses["Unavailable"]["headers"]["Retry-After"]["required"] is True
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            assert {"405", "503"} <= operation["responses"].keys(), f"{method} {path}"


def test_a_method_the_path_lacks_is_a_json_405_with_allow(client, operator):
    answer = client.put("/api/v1/jobs/1", headers=operator)
    assert answer.status_code == 405
    assert answer.get_json()["error"]["code"] == "method_not_allowed"
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_json_array_as_the_locale_body_is_a_400_not_a_500(client, operator):
    answer = client.post("/api/v1/me/locale", headers=operator, json=[None, None])
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "invalid_locale"
