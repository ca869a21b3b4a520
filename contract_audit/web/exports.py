"""Downloads for one result. The redline and the checklist come from their own modules, imported lazily:
an installation without them still serves everything else and says so (501 on their routes).

The calls made (the contract with those modules):
    contract_audit.redline.redline(report, original_bytes).docx -> bytes              (a .docx with tracked changes)
    contract_audit.checklist.render_checklist(report, fmt) -> str | bytes             (fmt: "md", "html" or "docx")
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from .store import StoredResult
from .uploads import download_name

log = logging.getLogger("contract_audit.web")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ExportUnavailable(Exception):
    """This installation cannot build that download (its module is missing); the message says which."""


@dataclass(frozen=True)
class Export:
    key: str          # the URL's last part
    label: str
    mimetype: str
    suffix: str       # of the download's file name
    main: bool = False  # shown as a button; the others as "more formats" links


EXPORTS = {
    export.key: export for export in (
        Export("redline.docx", "Redline (DOCX)", DOCX, "redline.docx", main=True),
        Export("checklist.docx", "Checklist (DOCX)", DOCX, "checklist.docx", main=True),
        Export("report.html", "HTML report", "text/html; charset=utf-8", "audit.html", main=True),
        Export("report.json", "JSON report", "application/json", "audit.json"),
        Export("report.md", "Markdown report", "text/markdown; charset=utf-8", "audit.md"),
        Export("checklist.md", "Checklist (Markdown)", "text/markdown; charset=utf-8", "checklist.md"),
        Export("checklist.html", "Checklist (HTML)", "text/html; charset=utf-8", "checklist.html"),
    )
}
_PROVIDERS = {  # key -> (module, function) for downloads built outside the report package
    "redline.docx": ("contract_audit.redline", "redline"),
    "checklist.docx": ("contract_audit.checklist", "render_checklist"),
    "checklist.md": ("contract_audit.checklist", "render_checklist"),
    "checklist.html": ("contract_audit.checklist", "render_checklist"),
}


def _provider(key: str):
    module_name, function = _PROVIDERS[key]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if getattr(exc, "name", None) != module_name:
            log.warning("%s is present but cannot be imported: %s", module_name, exc)
        return None
    return getattr(module, function, None)


def available() -> list[Export]:
    """The downloads this installation can build, in display order."""
    return [export for key, export in EXPORTS.items() if key not in _PROVIDERS or _provider(key) is not None]


def build(key: str, result: StoredResult, make=None) -> tuple[bytes, Export, str]:
    """Return (content, export, download file name); raise KeyError for an unknown key. `make` builds the content
    (the web engine's export, which runs it in a worker); by default it is built here."""
    export = EXPORTS[key]
    content = (make or render_download)(key, result.report, result.original)
    if isinstance(content, str):
        content = content.encode("utf-8")
    return content, export, download_name(result.name, export.suffix)


def render_download(key: str, report, original: bytes) -> bytes | str:
    from ..report import render

    if key.startswith("report."):
        return render([report], key.split(".", 1)[1])
    function = _provider(key)
    if function is None:
        module_name, name = _PROVIDERS[key]
        raise ExportUnavailable(
            f"{EXPORTS[key].label} is not available in this installation ({module_name}.{name} is missing)"
        )
    if key == "redline.docx":
        return function(report, original).docx
    return function(report, key.split(".", 1)[1])
