"""The OpenAPI 3.1 description of /api/, written out by hand so that it is the contract, not a by-product."""
from __future__ import annotations

from ..model import FAMILIES, SEVERITIES
from .settings import WebSettings


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    reasons = {
        400: "The request is malformed", 401: "An access token is required", 403: "Cross-site request refused",
        413: "Too large (file size, page count or number of clauses)", 415: "Not a PDF, DOCX, text or Markdown file",
        422: "The file could not be read as a contract (corrupt, encrypted, empty, scanned, ZIP bomb), or its audit "
             "went over the server's time or memory limit per audit and was stopped",
        429: "Too many audits are running or waiting; retry after the number of seconds in Retry-After",
        503: "The server is receiving too many uploads at once, or no audit worker became free in time; retry after "
             "the number of seconds in Retry-After",
    }
    retry_after = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}
    responses = {str(status): _json(_ref("Error"), reasons[status]) for status in statuses}
    for status in {429, 503} & set(statuses):
        responses[str(status)]["headers"] = retry_after
    return responses


def _schemas(settings: WebSettings) -> dict:
    string, integer, boolean = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
    family = {"type": "string", "enum": list(FAMILIES)}
    severity = {"type": "string", "enum": list(SEVERITIES)}
    return {
        "Error": {
            "type": "object", "required": ["error", "status"],
            "properties": {"error": string, "status": integer},
        },
        "Clause": {
            "type": "object", "required": ["id", "number", "heading", "page", "text"],
            "properties": {"id": string, "number": string, "heading": string, "page": {"type": "integer", "minimum": 1},
                           "text": string},
        },
        "Match": {
            "type": "object", "required": ["start", "end", "text"],
            "properties": {"start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0}, "text": string},
        },
        "Finding": {
            "type": "object",
            "required": ["rule_id", "family", "kind", "severity", "confidence", "source", "title", "clause", "match",
                         "message", "recommendation", "fallback", "explanation"],
            "properties": {
                "rule_id": string, "family": family, "kind": {"type": "string", "enum": ["risk", "missing"]},
                "severity": severity, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "source": {"type": "string", "enum": ["pattern", "classifier", "both"]}, "title": string,
                "clause": {"oneOf": [_ref("Clause"), {"type": "null"}]},
                "match": {"oneOf": [_ref("Match"), {"type": "null"}]},
                "message": string, "recommendation": string, "fallback": string, "explanation": {"type": "object"},
            },
        },
        "Report": {
            "type": "object", "required": ["schema_version", "document", "score", "families", "findings"],
            "description": "The same JSON as `contract-audit scan --format json` for one file.",
            "properties": {
                "schema_version": {"type": "integer", "const": 1},
                "document": {
                    "type": "object", "required": ["path", "sha256", "format", "pages", "clause_count"],
                    "properties": {
                        "path": {"type": "string", "description": "The uploaded file's name (a label, not a path)"},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "format": {"type": "string", "enum": ["pdf", "docx", "text", "markdown"]},
                        "pages": {"type": "integer", "minimum": 1}, "clause_count": {"type": "integer", "minimum": 0},
                    },
                },
                "score": {
                    "type": "object", "required": ["risk", "grade"],
                    "properties": {"risk": {"type": "integer", "minimum": 0, "maximum": 100},
                                   "grade": {"type": "string", "enum": ["A", "B", "C", "D", "F"]}},
                },
                "families": {
                    "type": "object", "propertyNames": family,
                    "additionalProperties": {"type": "object", "required": ["risks", "protected"],
                                             "properties": {"risks": {"type": "integer", "minimum": 0}, "protected": boolean}},
                },
                "findings": {"type": "array", "items": _ref("Finding")},
                "warnings": {"type": "array", "items": {"type": "string"},
                             "description": "What makes this report less reliable, e.g. a text that is not English"},
                "parties": {
                    "type": "object", "description": "Who the report reads as buyer and vendor, and how that was decided",
                    "properties": {name: {"type": "string"} for name in ("buyer", "buyer_basis", "vendor", "vendor_basis")},
                },
            },
        },
        "ScanUpload": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                    "description": f"PDF, DOCX, text or Markdown; at most {settings.max_upload_bytes} bytes "
                                                   f"and {settings.max_pages} pages. The type is judged from the content."},
                           "buyer": {"type": "string", "maxLength": 200,
                                     "description": "Optional: the buyer's name as the contract writes it, when the "
                                                    "report should not read it from the contract"},
                           "vendor": {"type": "string", "maxLength": 200,
                                      "description": "Optional: the vendor's name as the contract writes it"}},
        },
        "ClassifyRequest": {
            "type": "object", "required": ["clauses"],
            "properties": {"clauses": {
                "type": "array", "minItems": 1, "maxItems": settings.max_clauses,
                "items": {"type": "object", "required": ["text"], "properties": {
                    "id": {"type": ["string", "integer"]}, "text": {"type": "string", "maxLength": settings.max_clause_chars},
                }},
            }},
        },
        "ClauseVerdict": {
            "type": "object", "required": ["id", "families", "protects", "findings"],
            "properties": {
                "id": string, "families": {"type": "array", "items": family, "description": "Risk families found"},
                "protects": {"type": "array", "items": family, "description": "Families this clause protects"},
                "findings": {"type": "array", "items": _ref("Finding")},
            },
        },
        "ClassifyResponse": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": _ref("ClauseVerdict")}},
        },
        "Rule": {
            "type": "object",
            "required": ["id", "family", "kind", "severity", "title", "rationale", "recommendation", "fallback", "examples"],
            "properties": {
                "id": string, "family": family, "kind": {"type": "string", "enum": ["risk", "protection"]},
                "severity": severity, "title": string, "rationale": string, "recommendation": string, "fallback": string,
                "examples": {"type": "object", "required": ["positive", "negative"], "properties": {
                    "positive": {"type": "array", "items": string}, "negative": {"type": "array", "items": string}}},
            },
        },
        "RuleList": {"type": "object", "required": ["rules"], "properties": {"rules": {"type": "array", "items": _ref("Rule")}}},
    }


def openapi_document(settings: WebSettings | None = None) -> dict:
    from .. import __version__

    settings = settings or WebSettings()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "contract-audit",
            "version": __version__,
            "description": "Audit AI, cloud and smart-city contracts for digital-sovereignty red flags. Runs locally; "
                           "nothing is sent anywhere. When the server was started with an access token, send it as "
                           "'Authorization: Bearer TOKEN'. Each audit runs in a worker process with a time limit "
                           f"({settings.scan_timeout:g} s) and a memory limit; at most {settings.workers} run at once "
                           f"and {settings.max_queue} wait (429 beyond that), and at most {settings.max_uploads} "
                           f"request bodies totalling {settings.upload_budget_bytes // (1024 * 1024)} MiB are received "
                           "at once (503 beyond that). Both answers carry Retry-After.",
        },
        "security": [{}, {"token": []}],
        "paths": {
            "/api/scan": {"post": {
                "operationId": "scan", "summary": "Audit one contract file",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _ref("ScanUpload")}}},
                "responses": {"200": _json(_ref("Report"), "The audit report"),
                              **_errors(400, 401, 403, 413, 415, 422, 429, 503)},
            }},
            "/api/classify": {"post": {
                "operationId": "classify", "summary": "Classify free-standing clauses",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ClassifyRequest")}}},
                "responses": {"200": _json(_ref("ClassifyResponse"), "One verdict per clause, in order"),
                              **_errors(400, 401, 403, 413, 422, 429, 503)},
            }},
            "/api/rules": {"get": {
                "operationId": "listRules", "summary": "The active rules with their examples",
                "responses": {"200": _json(_ref("RuleList"), "Active rules"), **_errors(401)},
            }},
            "/api/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This description",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document"), **_errors(401)},
            }},
        },
        "components": {
            "schemas": _schemas(settings),
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }
