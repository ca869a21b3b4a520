"""spaCy, loaded for what the matcher needs: a blank English tokenizer, Matcher and PhraseMatcher.

`import spacy` also imports spaCy's own command line (`spacy.cli`), which brings model downloads, HTTP
clients and project tooling: about 0.3 s on every start-up, for code contract-audit never
runs and that has no business in an offline tool. While spaCy is first imported, `spacy.cli` and
`spacy.cli.info` are stood in for by empty modules; they are removed again afterwards, so an explicit
`import spacy.cli` later still loads the real one, and `spacy.info` loads it on first call. A spaCy whose
start-up needs more of its command line than that is simply imported in full.
"""
from __future__ import annotations

import sys
import threading
import types

_CLI_MODULES = ("spacy.cli", "spacy.cli.info")
_LOCK = threading.Lock()


def spacy_module():
    with _LOCK:
        if "spacy" not in sys.modules:
            _import_without_command_line()
    import spacy

    return spacy


def _import_without_command_line() -> None:
    placeholders = {name: types.ModuleType(name) for name in _CLI_MODULES if name not in sys.modules}
    if "spacy.cli.info" in placeholders:
        placeholders["spacy.cli.info"].info = _info
    sys.modules.update(placeholders)
    try:
        import spacy  # noqa: F401
    except ImportError:
        pass  # a spaCy that needs more of its command line: imported in full by the caller
    finally:
        for name, module in placeholders.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def _info(*args, **kwargs):
    """`spacy.info`, imported from the real spaCy command line when someone asks for it."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def blank_english():
    """A blank English pipeline (tokenizer only), with its Matcher and PhraseMatcher classes."""
    spacy = spacy_module()
    from spacy.matcher import Matcher, PhraseMatcher

    return spacy.blank("en"), Matcher, PhraseMatcher
