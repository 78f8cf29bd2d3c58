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
            "schemas": {"Error": ERROR, "Landlord": LANDLORD, "Patrol": PATROL},
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
            "/me": {
                "get": {
                    "summary": "The caller",
                    "responses": {"200": {"description": "The caller"}, **_ERRORS},
                }
            },
        },
    }
