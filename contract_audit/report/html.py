"""Self-contained HTML report (no external assets), rendered with Jinja2 and autoescaping."""
from __future__ import annotations

from pathlib import PurePath

from ..model import Report


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("contract_audit", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    env.filters["basename"] = lambda path: PurePath(path).name
    return env


def render_html(reports: list[Report]) -> str:
    from .. import __version__

    return _environment().get_template("report.html").render(reports=reports, version=__version__)
