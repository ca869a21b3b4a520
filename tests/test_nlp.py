"""spaCy is loaded without its command line, and still whole for anyone who asks for that."""
import subprocess
import sys

_PROBE = """
import sys
from contract_audit.nlp import blank_english
nlp, Matcher, PhraseMatcher = blank_english()
print(sorted(name for name in ("spacy.cli", "requests", "httpx", "typer") if name in sys.modules))
print([token.text for token in nlp.make_doc("The City may install monitoring tools.")])
import spacy.cli
print(callable(spacy.cli.download), spacy.info is not None)
"""


def test_spacy_loads_without_its_command_line_and_can_still_import_it():
    lines = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[0] == "[]"
    assert lines[1] == "['The', 'City', 'may', 'install', 'monitoring', 'tools', '.']"
    assert lines[2] == "True True"
