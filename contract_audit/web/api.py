"""The JSON API under /api/: scan a file, classify clauses, list rules; described by /api/openapi.json."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from ..report.json import finding_to_dict, report_to_dict
from .app import error_response, state
from .openapi import openapi_document
from .uploads import display_name, party_name, read_upload

bp = Blueprint("api", __name__)


@bp.get("/")
def docs():
    return render_template("api.html", spec=openapi_document(state().settings))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(state().settings))


@bp.post("/scan")
def scan():
    upload = request.files.get("file")
    if upload is None:
        return error_response(400, "send the contract as a multipart/form-data field named 'file'")
    name = display_name(upload.filename)
    buyer = party_name(request.form.get("buyer"), "buyer")
    vendor = party_name(request.form.get("vendor"), "vendor")
    report = state().engine.scan(read_upload(upload, name, state().settings), name, buyer, vendor)
    return jsonify(report_to_dict(report))


@bp.post("/classify")
def classify():
    settings = state().settings
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # silent=True covers malformed JSON, not JSON nested thousands deep
        return error_response(400, "the JSON is nested too deeply")
    if not isinstance(body, dict) or not isinstance(body.get("clauses"), list):
        return error_response(400, 'send JSON {"clauses": [{"id": "1", "text": "..."}]}')
    clauses = body["clauses"]
    if not clauses:
        return error_response(400, "'clauses' is empty")
    if len(clauses) > settings.max_clauses:
        return error_response(413, f"at most {settings.max_clauses} clauses per request; you sent {len(clauses)}")
    ids, texts = [], []
    for index, item in enumerate(clauses):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return error_response(400, f"clauses[{index}] needs a string field 'text'")
        if len(item["text"]) > settings.max_clause_chars:
            return error_response(413, f"clauses[{index}] is longer than {settings.max_clause_chars} characters")
        clause_id = item.get("id", str(index))
        if not isinstance(clause_id, (str, int)) or isinstance(clause_id, bool):
            return error_response(400, f"clauses[{index}].id must be a string or an integer")
        ids.append(str(clause_id))
        texts.append(item["text"])
    results = state().engine.classify(texts, ids)
    return jsonify({"results": [
        {"id": r.id, "families": r.families, "protects": r.protects, "findings": [finding_to_dict(f) for f in r.findings]}
        for r in results
    ]})


@bp.get("/rules")
def rules():
    return jsonify({"rules": [rule_to_dict(rule) for rule in state().engine.active_rules()]})


def rule_to_dict(rule) -> dict:
    return {
        "id": rule.id, "family": rule.family, "kind": rule.kind, "severity": rule.severity, "title": rule.title,
        "rationale": rule.rationale, "recommendation": rule.recommendation, "fallback": rule.fallback,
        "examples": {"positive": list(rule.positive_examples), "negative": list(rule.negative_examples)},
    }
