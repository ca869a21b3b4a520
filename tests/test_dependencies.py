"""The declared dependency floors keep out releases with known vulnerabilities, and what is installed meets them."""
import configparser
from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import REPO

# Package -> the first release without the advisory: pickled CMaps run code on load (pdfminer.six,
# CVE-2025-64512 / GHSA-wf5f-4jwr-ppcp); multipart form bodies bypass max_form_memory_size (Werkzeug,
# GHSA-q34m-jh98-gwm2, fixed in 3.0.6), and safe_join lets Windows device names through (fixed in 3.1.6).
FIXED = {"pdfminer.six": "20251229", "werkzeug": "3.1.6"}


def _install_requires() -> dict[str, Requirement]:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    lines = [line.strip() for line in config["options"]["install_requires"].splitlines() if line.strip()]
    return {Requirement(line).name.lower(): Requirement(line) for line in lines}


@pytest.mark.parametrize("package, fixed", sorted(FIXED.items()))
def test_vulnerable_releases_are_excluded_by_the_declared_floor(package, fixed):
    requirement = _install_requires()[package]
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    assert floors and min(floors) >= Version(fixed)


def test_installed_versions_meet_the_declared_requirements():
    unmet = []
    for name, requirement in _install_requires().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            unmet.append(f"{name} not installed")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{name} {installed} does not meet {requirement.specifier}")
    assert unmet == []
