"""One writer per output format; `render(reports, fmt)` picks it."""
from __future__ import annotations

from ..model import Report

FORMATS = ("json", "md", "html")


def render(reports: list[Report], fmt: str) -> str:
    if fmt == "json":
        from .json import render_json

        return render_json(reports)
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(reports)
    if fmt == "html":
        from .html import render_html

        return render_html(reports)
    raise ValueError(f"unknown report format '{fmt}' (choose from {', '.join(FORMATS)})")
