"""Text features for the clause classifier, shared by training (scikit-learn) and prediction (numpy only).

Party names become role tokens, so that "the Vendor", "the Provider" and "NovaStack" all read as the supplier
side, and words in the scope of a negation get a `not_` prefix, so that "shall not install" and "may install"
are different features.
"""
from __future__ import annotations

import re

from .clauses import BUYER_ROLE_WORDS, VENDOR_ROLE_WORDS

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[.;:,()]")
_NEGATORS = frozenset({"not", "no", "never", "without", "neither", "nor", "cannot", "except", "unless", "n't"})
_SCOPE_END = frozenset({".", ";", ":", ",", "(", ")", "but", "except", "unless", "provided"})
_NEGATION_WINDOW = 4
_VENDOR = frozenset(w for w in VENDOR_ROLE_WORDS if " " not in w) | {"we", "our", "us"}
_BUYER = frozenset(w for w in BUYER_ROLE_WORDS if " " not in w) | {"you", "your"}
_PARTY_TOKENS = frozenset({"_vendor_", "_buyer_"})


def tokens(text: str) -> list[str]:
    out: list[str] = []
    negation_left = 0
    for raw in _TOKEN.findall(text.lower().replace("’", "'")):
        token = raw[:-2] if raw.endswith("'s") else raw
        if token in _SCOPE_END:
            negation_left = 0
            continue
        if token in _VENDOR:
            token = "_vendor_"
        elif token in _BUYER:
            token = "_buyer_"
        if token in _NEGATORS:
            negation_left = _NEGATION_WINDOW
            out.append(token)
            continue
        if negation_left:
            out.append(f"not_{token}")
            negation_left -= 1
        else:
            out.append(token)
    return out


def analyze(text: str) -> list[str]:
    """Unigrams and bigrams of the normalised tokens (the analyzer given to TfidfVectorizer)."""
    words = tokens(text)
    features = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    # Who may or must do what: a party followed by its next two words ("_buyer_ shall not_install").
    features += [f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:]) if a in _PARTY_TOKENS]
    return features
