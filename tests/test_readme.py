"""What README.md promises: the two quick-start commands as CI runs them, no example outside the repository,
and links in README.md and docs/*.md that resolve."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

QUICK_START = [
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && "
    "contract-audit scan sample_contracts/turnkey_ai_stack.pdf",
    'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && python -m pytest -q',
]

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def bash_blocks(text: str) -> list[str]:
    return [body.strip() for lang, body in _FENCE.findall(text) if lang == "bash"]


def without_code(text: str) -> str:
    """The text with fenced code blocks and inline code removed (links inside them are examples, not links)."""
    return re.sub(r"`[^`\n]*`", "", _FENCE.sub("", text))


def links(path: Path) -> list[str]:
    return _LINK.findall(without_code(path.read_text(encoding="utf-8")))


def slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    heading = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE)}


def test_quick_start_commands_are_the_first_two_bash_blocks():
    assert bash_blocks(README.read_text(encoding="utf-8"))[:2] == QUICK_START


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install_and_test = QUICK_START[1].split(" && ", 2)[2]
    assert install_and_test == 'pip install -e ".[test]" && python -m pytest -q'
    assert any(line.strip() == install_and_test for line in ci.splitlines())
    assert "python3 -m venv .venv" in ci and ". .venv/bin/activate" in ci


def test_readme_points_nowhere_outside_the_repository():
    text = README.read_text(encoding="utf-8")
    outside = [m.group(0) for m in re.finditer(r"(?<![\w.])\.\./\S*", text)]
    assert not outside, f"README.md refers outside the repository: {outside}"
    assert not [target for target in links(README) if target.startswith("/")]


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.\-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            broken.append(target)
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links that do not resolve: {broken}"
