"""The OpenAPI document served at /api/v1/openapi.json. It grows as endpoints land."""

from __future__ import annotations

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


_ERRORS = {
    "401": {"$ref": "#/components/responses/Error"},
    "403": {"$ref": "#/components/responses/Error"},
}


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


def _json_body(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


def _ok(description: str, schema: dict | None = None) -> dict:
    answer = {"description": description}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return answer


_BAD = {"400": {"$ref": "#/components/responses/Error"}}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]


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
                        "Job": JOB},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
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
                    "responses": {"200": {"description": "Stored"},
                                  "400": {"$ref": "#/components/responses/Error"}, **_ERRORS},
                }
            },
            "/calls": {"post": {
                "summary": "The telephony webhook: screen pop on the consoles",
                "requestBody": _json_body({"dialled_number": {"type": "string"},
                                           "caller_number": {"type": ["string", "null"]}},
                                          ["dialled_number"]),
                "responses": {"201": _ok("The screen pop: landlord and matching tenants"),
                              **_BAD, **_ERRORS}}},
            "/addresses/search": {"get": {
                "summary": "Search the registers, best first",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "landlord", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 5}},
                ],
                "responses": {"200": _list_of("Hit", "Candidates"), **_BAD, **_ERRORS}}},
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
                "responses": {"201": _ok("complaint_id, job_id, recommended"), **_BAD,
                              **_ERRORS}}},
            "/jobs/{id}/dispatch": {"post": {
                "summary": "Send the job to a patrol ({patrol_id}) or the nearest ({})",
                "parameters": _ID,
                "requestBody": _json_body({"patrol_id": {"type": "integer"}}, []),
                "responses": {"200": _ok("job_id, patrol_id, distance_m"),
                              "404": {"$ref": "#/components/responses/Error"},
                              "409": {"$ref": "#/components/responses/Error"}, **_ERRORS}}},
            "/jobs/{id}": {"get": {
                "summary": "A job with its status history", "parameters": _ID,
                "responses": {"200": _ok("The job", {"$ref": "#/components/schemas/Job"}),
                              "404": {"$ref": "#/components/responses/Error"}, **_ERRORS}}},
            "/me": {
                "get": {
                    "summary": "The caller",
                    "responses": {"200": {"description": "The caller"}, **_ERRORS},
                }
            },
        },
    }
