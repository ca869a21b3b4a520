"""Where the shipped rule library and model live: beside the package in a source checkout, or installed
with it (setup.cfg maps rules/ and models/ to the data packages contract_audit.shipped_rules and
contract_audit.shipped_models)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent


def shipped_dir(folder: str, package: str) -> Path:
    source = _SOURCE_TREE / folder
    if source.is_dir() and (_SOURCE_TREE / "setup.cfg").is_file():
        return source
    # The data packages have no __init__.py (they hold only data), so ask the import system for their folder.
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return source
