"""Server-rendered pages: upload, results, downloads, check a clause, the rule list."""
from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from ..errors import AuditError
from ..model import FAMILIES, SEVERITIES
from . import exports
from .app import error_response, state, wants_json
from .uploads import UploadRejected, display_name, party_name, read_upload
from .views import clause_verdicts, family_rows, finding_groups, rules_by_family

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html", forgotten=request.args.get("forgotten") == "1")


@bp.post("/scan")
def scan():
    uploads = [f for f in request.files.getlist("files") if f.filename or f.content_length]
    settings = state().settings
    if not uploads:
        return error_response(400, "choose at least one file to scan")
    if len(uploads) > settings.max_files:
        return error_response(413, f"at most {settings.max_files} files at once; you sent {len(uploads)}")
    outcomes = [_scan_one(upload) for upload in uploads]
    if wants_json():  # the page's script uploads one file per request and reads the answer
        outcome = outcomes[0]
        if outcome["ok"]:
            return jsonify(outcome)
        return jsonify({"error": outcome["error"], "status": outcome["status"], "name": outcome["name"]}), outcome["status"]
    if len(outcomes) == 1:
        outcome = outcomes[0]
        if not outcome["ok"]:
            return error_response(outcome["status"], outcome["error"])
        return redirect(outcome["url"], code=303)
    status = 200 if any(o["ok"] for o in outcomes) else max(o["status"] for o in outcomes)
    return render_template("batch.html", outcomes=outcomes), status


def _scan_one(upload) -> dict:
    name = display_name(upload.filename)
    try:
        data = read_upload(upload, name, state().settings)
        report = state().engine.scan(data, name, party_name(request.form.get("buyer"), "buyer"),
                                     party_name(request.form.get("vendor"), "vendor"))
    except UploadRejected as exc:
        return {"ok": False, "name": name, "error": exc.message, "status": exc.status}
    finally:
        upload.close()
    result = state().store.add(name, report, data)
    risks = sum(1 for f in report.findings if f.kind == "risk")
    return {
        "ok": True, "id": result.id, "name": name, "url": url_for("pages.results", result_id=result.id),
        "risk": report.risk_score, "grade": report.grade, "risks": risks,
        "missing": sum(1 for f in report.findings if f.kind == "missing"), "status": 200,
    }


def _result(result_id: str):
    result = state().store.get(result_id)
    if result is None:
        abort(404)
    return result


@bp.get("/results/<result_id>")
def results(result_id: str):
    result = _result(result_id)
    chosen_severities = [s for s in request.args.getlist("severity") if s in SEVERITIES] or list(SEVERITIES)
    chosen_families = [f for f in request.args.getlist("family") if f in FAMILIES] or list(FAMILIES)
    groups, shown, total = finding_groups(result.report, chosen_severities, chosen_families)
    return render_template(
        "results.html", result=result, report=result.report, groups=groups, shown=shown, total=total,
        family_rows=family_rows(result.report), severities=SEVERITIES, families=FAMILIES,
        chosen_severities=chosen_severities, chosen_families=chosen_families,
        downloads=exports.available(), missing_downloads=_missing_downloads(),
    )


def _missing_downloads() -> list[str]:
    have = {export.key for export in exports.available()}
    return [export.label for key, export in exports.EXPORTS.items() if key not in have]


@bp.get("/results/<result_id>/<key>")
def download(result_id: str, key: str):
    result = _result(result_id)
    if key not in exports.EXPORTS:
        abort(404)
    try:
        content, export, filename = exports.build(key, result, make=state().engine.export)
    except AuditError as exc:
        return error_response(422, str(exc))
    response = Response(content, mimetype=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/results/<result_id>/forget")
def forget(result_id: str):
    state().store.forget(result_id)
    return redirect(url_for("pages.index", forgotten="1"), code=303)


@bp.route("/clause", methods=["GET", "POST"])
def clause():
    text, verdicts = "", None
    if request.method == "POST":
        text = request.form.get("text", "")
        settings = state().settings
        if not text.strip():
            return error_response(400, "paste the text of a clause to check")
        if len(text) > settings.max_clause_chars:
            return error_response(413, f"the text is {len(text)} characters long; at most {settings.max_clause_chars} at once")
        verdicts = clause_verdicts(state().engine.classify([text])[0])
    return render_template("clause.html", text=text, verdict=verdicts)


@bp.get("/rules")
def rules():
    return render_template("rules.html", families=rules_by_family(state().engine.active_rules()))
