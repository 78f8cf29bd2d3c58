"""The OpenAPI document served at /api/v1/openapi.json. It grows as endpoints land.

Every operation lists the errors it can really answer, each with the contract's JSON error
shape (``{"error": {"code", "message"}}``): 401 without a caller, 403 for a role that may not,
405 for a method the path does not have (with ``Allow``), 503 when the database cannot be
reached (with ``Retry-After``); a request with a body also 400 (a bad body, or a missing CSRF
token beside a session cookie) and 413 (over ``MAX_CONTENT_LENGTH``); 404 and 409 where an
operation says so. ``tests/api/test_schema.py`` holds the API to it with schemathesis.
"""

from __future__ import annotations

from dispatch.core.ids import MAX_ID

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
}

LANDLORD = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "oncall_numbers": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["code", "name", "oncall_numbers"],
}

PATROL = {
    "type": "object",
    "properties": {
        "patrol_id": {"type": "integer"},
        "call_sign": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["off_duty", "available", "busy"]},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
        "position_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
    "required": ["patrol_id", "name", "status", "lat", "lon", "updated_at"],
}


def _list_of(ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}
            }
        },
    }


def _error(description: str, **headers: dict) -> dict:
    """A response with the JSON error body (and the given headers)."""
    answer = {"description": description, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"description": "Seconds to wait before sending the request again",
                "schema": {"type": "string", "pattern": "^[0-9]+$"}}
ERROR_RESPONSES = {
    "BadRequest": _error("The request is not valid: see the error's code and message"),
    "Unauthorized": _error("No caller: send a bearer token or log in"),
    "Forbidden": _error("The caller's role may not do this"),
    "NotFound": _error("No such thing (or one the caller may not see)"),
    "MethodNotAllowed": _error(
        "The path does not have this method; Allow lists the ones it has",
        Allow={"description": "The methods the path has", "required": True,
               "schema": {"type": "string"}}),
    "Conflict": _error("The thing is not in a state that allows this just now"),
    "TooLarge": _error("The request body is larger than the server accepts"),
    "TooManyAttempts": _error("Too many failed attempts: wait, then try again",
                              **{"Retry-After": _RETRY_AFTER}),
    "Unavailable": _error("The database cannot be reached just now; nothing was saved",
                          **{"Retry-After": {**_RETRY_AFTER, "required": True}}),
}
_STATUS = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
           "405": "MethodNotAllowed", "409": "Conflict", "413": "TooLarge",
           "429": "TooManyAttempts", "503": "Unavailable"}


def _errors(*statuses: str) -> dict:
    """The listed error responses, by reference."""
    return {status: {"$ref": f"#/components/responses/{_STATUS[status]}"}
            for status in statuses}


_ERRORS = _errors("401", "403", "405", "503")  # every operation that needs a caller
_PUBLIC = _errors("405", "503")  # every operation
_BODY = _errors("400", "413")  # every operation with a request body
_NOT_FOUND = _errors("404")


HIT = {
    "type": "object",
    "properties": {
        "object_id": {"type": ["integer", "null"]},
        "objektsnummer": {"type": ["string", "null"]},
        "entrance_id": {"type": "integer"},
        "landlord": {"type": "string"},
        "address": {"type": "string"},
        "postnummer": {"type": "string"},
        "ort": {"type": "string"},
        "lagenhetsnummer": {"type": ["string", "null"]},
        "floor": {"type": ["integer", "null"]},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
        "score": {"type": "number"},
    },
}

JOB = {"type": "object", "properties": {
    "job_id": {"type": "integer"}, "status": {"type": "string", "enum": [
        "queued", "assigned", "accepted", "en_route", "on_site", "done", "cancelled"]},
    "patrol_id": {"type": ["integer", "null"]}, "address": {"type": "string"},
    "history": {"type": "array", "items": {"type": "object"}}}}


_TIME = {"type": ["string", "null"], "format": "date-time"}
REPORT_SUMMARY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": ["submitted", "released"]},
    "night": {"type": "string", "format": "date"},
    "landlord": {"type": "object", "properties": {"code": {"type": "string"},
                                                  "name": {"type": "string"}}},
    "property": {"type": ["string", "null"]}, "address": {"type": "string"},
    "lagenhetsnummer": {"type": ["string", "null"]}, "category": {"type": "string"},
    "outcome": {"type": ["string", "null"]}, "released_at": _TIME,
    "call_received_at": _TIME},
    "required": ["id", "status", "night", "landlord", "address", "category"]}
REPORT = {"type": "object", "properties": {
    **REPORT_SUMMARY["properties"],
    "objektsnummer": {"type": ["string", "null"]}, "priority": {"type": "integer"},
    "description": {"type": "string"}, "disturbed_party": {"type": ["string", "null"]},
    "suspected_source": {"type": ["string", "null"]}, "patrol": {"type": ["string", "null"]},
    "timeline": {"type": "array", "items": {"type": "object", "properties": {
        "event": {"type": "string",
                  "enum": ["call", "dispatched", "acknowledged", "arrived", "left"]},
        "at": _TIME}}},
    "observations": {"type": "string"}, "disturber_reached": {"type": ["boolean", "null"]},
    "disturber_response": {"type": "string"}, "tenant_contacted": {"type": ["boolean", "null"]},
    "actions": {"type": "string"}, "can_testify": {"type": ["boolean", "null"]},
    "text": {"type": "string"}, "submitted_at": _TIME,
    "revisions": {"type": "array", "items": {"type": "object"}}},
    "required": REPORT_SUMMARY["required"] + ["timeline"]}


def _json_body(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


def _ok(description: str, schema: dict | None = None) -> dict:
    answer = {"description": description}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return answer


_BAD = _errors("400")
_ID = [{"name": "id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}]


def document() -> dict:
    """Build the document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Störningsjour API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Error": ERROR, "Landlord": LANDLORD, "Patrol": PATROL, "Hit": HIT,
                        "Job": JOB, "ReportSummary": REPORT_SUMMARY, "Report": REPORT},
            "responses": ERROR_RESPONSES,
        },
        "paths": {
            "/landlords": {
                "get": {
                    "summary": "Landlords with on-call numbers",
                    "responses": {"200": _list_of("Landlord", "Landlords"), **_ERRORS},
                }
            },
            "/patrols": {
                "get": {
                    "summary": "Patrols with status and position",
                    "responses": {"200": _list_of("Patrol", "Patrols"), **_ERRORS},
                }
            },
            "/me/locale": {
                "post": {
                    "summary": "Store the caller's language",
                    "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"locale": {"type": "string", "enum": ["sv", "en", "fi"]}},
                        "required": ["locale"]}}}},
                    "responses": {"200": _ok("Stored", {
                        "type": "object", "properties": {"locale": {"type": "string"}},
                        "required": ["locale"]}), **_BODY, **_ERRORS},
                }
            },
            "/calls": {"post": {
                "summary": "The telephony webhook: screen pop on the consoles",
                "requestBody": _json_body({"dialled_number": {"type": "string"},
                                           "caller_number": {"type": ["string", "null"]}},
                                          ["dialled_number"]),
                "responses": {"201": _ok("The screen pop: landlord and matching tenants"),
                              **_BODY, **_ERRORS}}},
            "/calls/{id}/take": {"post": {
                "summary": "An operator takes the call: off every console's waiting calls",
                "parameters": _ID, "requestBody": _json_body({}, []),
                "responses": {"200": _ok("call_id"), **_BODY, **_NOT_FOUND, **_ERRORS}}},
            "/addresses/search": {"get": {
                "summary": "Search the registers, best first",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "landlord", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 5}},
                ],
                "responses": {"200": _list_of("Hit", "Candidates"), **_BAD,
                              **_errors("404"), **_ERRORS}}},
            "/complaints": {"post": {
                "summary": "Log a complaint; answers the job and the nearest patrols",
                "requestBody": _json_body({
                    "landlord": {"type": "string"}, "object_id": {"type": "integer"},
                    "entrance_id": {"type": "integer"}, "category": {"type": "string"},
                    "description": {"type": "string"}, "priority": {"type": "integer"},
                    "caller": {"type": "object"}, "call_id": {"type": "integer"},
                    "disturbed_party": {"type": "string"},
                    "suspected_object_id": {"type": "integer"},
                    "suspected_source": {"type": "string"}}, ["landlord", "category"]),
                "responses": {"201": _ok("complaint_id, job_id, recommended"), **_BODY,
                              **_ERRORS}}},
            "/jobs/{id}/dispatch": {"post": {
                "summary": "Send the job to a patrol ({patrol_id}) or the nearest ({})",
                "parameters": _ID,
                "requestBody": _json_body({"patrol_id": {"type": "integer"}}, []),
                "responses": {"200": _ok("job_id, patrol_id, distance_m"), **_BODY,
                              **_errors("404", "409"), **_ERRORS}}},
            "/jobs/{id}/redispatch": {"post": {
                "summary": "Move the job on: to a patrol ({patrol_id}) or to the nearest "
                           "available car that has not had it ({}); 409 when none is free, "
                           "or the job is done or cancelled",
                "parameters": _ID,
                "requestBody": _json_body({"patrol_id": {"type": "integer"}}, []),
                "responses": {"200": _ok("job_id, patrol_id, status, distance_m"), **_BODY,
                              **_errors("404", "409"), **_ERRORS}}},
            "/jobs/{id}/cancel": {"post": {
                "summary": "Cancel the job, with the reason (required); 409 when it is done "
                           "or cancelled already",
                "parameters": _ID,
                "requestBody": _json_body({"reason": {"type": "string"}}, ["reason"]),
                "responses": {"200": _ok("job_id, status"), **_BODY,
                              **_errors("404", "409"), **_ERRORS}}},
            "/jobs/{id}/requeue": {"post": {
                "summary": "Take the job from its car and put it back in the queue; 409 when "
                           "it is queued already, done or cancelled",
                "parameters": _ID,
                "requestBody": _json_body({}, []),
                "responses": {"200": _ok("job_id, status"), **_BODY,
                              **_errors("404", "409"), **_ERRORS}}},
            "/jobs/{id}": {"get": {
                "summary": "A job with its status history (and events: the full history "
                           "with cars, operators and details)", "parameters": _ID,
                "responses": {"200": _ok("The job", {"$ref": "#/components/schemas/Job"}),
                              **_NOT_FOUND, **_ERRORS}}},
            "/alarms": {"get": {
                "summary": "The cars' alarms (assault alarm, missed check-in) no operator has "
                           "acknowledged, oldest first",
                "responses": {"200": _ok("[alarm]"), **_ERRORS}}},
            "/alarms/board": {"get": {
                "summary": "The supervisor's view: every alarm standing (a car's alarm, a "
                           "missed check-in, a job not accepted in time) and the ones handled "
                           "tonight, with who handled them, when and how",
                "responses": {"200": _ok("{night, standing: [alarm], handled: [alarm]}"),
                              **_ERRORS}}},
            "/alarms/{id}/acknowledge": {"post": {
                "summary": "An operator has the alarm: recorded, audited, told to the consoles "
                           "and the car (again: 200, changed false)", "parameters": _ID,
                "requestBody": _json_body({}, []),
                "responses": {"200": _ok("The alarm, changed"), **_BODY, **_NOT_FOUND,
                              **_ERRORS}}},
            "/reports": {"get": {
                "summary": "The reports of one morning's mail that the caller may read "
                           "(a landlord's contact person: only its own, released ones)",
                "parameters": [{"name": "date", "in": "query", "schema": {
                    "type": "string", "format": "date"},
                    "description": "The morning, YYYY-MM-DD (default: the latest)"}],
                "responses": {"200": _list_of("ReportSummary", "Reports"), **_BAD,
                              **_ERRORS}}},
            "/reports/{id}": {"get": {
                "summary": "One report; 404 for one the caller may not read, as for one that "
                           "does not exist", "parameters": _ID,
                "responses": {"200": _ok("The report", {"$ref": "#/components/schemas/Report"}),
                              **_NOT_FOUND, **_ERRORS}}},
            "/reports/{id}/release": {"post": {
                "summary": "An operator releases a reviewed report to the landlord "
                           "(read-only from then on)", "parameters": _ID,
                "responses": {"200": _ok("The released report",
                                         {"$ref": "#/components/schemas/Report"}),
                              **_BODY, **_NOT_FOUND, **_ERRORS}}},
            "/field/session": {
                "post": {
                    "summary": "A patrol tablet's shift log-in: a device token for the /field "
                               "socket (same attempt limits as the web log-in)",
                    "security": [],
                    "requestBody": _json_body({"email": {"type": "string"},
                                               "password": {"type": "string"},
                                               "call_sign": {"type": "string"},
                                               "crew": {"type": "array", "items": {
                                                   "type": "string"}}},
                                              ["email", "password", "call_sign", "crew"]),
                    "responses": {"201": _ok("The token, its expiry, the user and the car"),
                                  **_BODY, **_errors("401", "429"), **_PUBLIC},
                },
                "delete": {"summary": "End the shift: revoke this device token",
                           "responses": {"204": {"description": "Revoked"}, **_BODY,
                                         **_errors("401"), **_PUBLIC}},
            },
            "/field/search": {"get": {
                "summary": "A car on duty searches the registers (read-only, no score), best "
                           "first; 403 for a car off duty or a caller that is no car",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _ok("Candidates"), **_BAD, **_ERRORS}}},
            "/field/entrances/{id}": {"get": {
                "summary": "A car on duty opens an address: its flats and tenants (audited)",
                "parameters": _ID,
                "responses": {"200": _ok("The entrance"), **_NOT_FOUND, **_ERRORS}}},
            "/field/objects/{id}": {"get": {
                "summary": "A car on duty opens an object: tenants, neighbours, premise "
                           "history, no door code (audited)", "parameters": _ID,
                "responses": {"200": _ok("The object"), **_NOT_FOUND, **_ERRORS}}},
            "/field/jobs/{id}/history": {"get": {
                "summary": "The history of a job the car has now (404 for any other)",
                "parameters": _ID,
                "responses": {"200": _ok("The steps, oldest first"), **_NOT_FOUND,
                              **_ERRORS}}},
            "/field/patrols": {"get": {
                "summary": "The cars' call signs for the tablet's log-in (public)",
                "security": [], "responses": {"200": _ok("[{call_sign, name}]"),
                                              **_PUBLIC}}},
            "/objects/{id}": {"get": {
                "summary": "The object view: address, flat, tenants, door code, neighbours, "
                           "premise history", "parameters": _ID,
                "responses": {"200": _ok("The object"),
                              **_NOT_FOUND, **_ERRORS}}},
            "/entrances/{id}": {"get": {
                "summary": "An address with its objects, to choose the flat", "parameters": _ID,
                "responses": {"200": _ok("The entrance"),
                              **_NOT_FOUND, **_ERRORS}}},
            "/board": {"get": {
                "summary": "Open jobs and every patrol: the live board's starting state",
                "responses": {"200": _ok("jobs, patrols, calls (waiting, oldest first), "
                                         "ack_alarm_after_s, ack_redispatch_after_s"),
                              **_ERRORS}}},
            "/figures/call-to-dispatch": {"get": {
                "summary": "Seconds from call to dispatch per job, and the share within 60 s",
                "parameters": [{"name": "night", "in": "query",
                                "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": _ok("The night's figures"), **_BAD, **_ERRORS}}},
            "/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": _ok("The OpenAPI document", {"type": "object"}),
                              **_PUBLIC}}},
            "/me": {
                "get": {
                    "summary": "The caller",
                    "responses": {"200": {"description": "The caller"}, **_ERRORS},
                }
            },
        },
    }
