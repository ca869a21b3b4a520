"""Text features for the clause classifier, shared by training (scikit-learn) and prediction (numpy only).

Party names become role tokens, so that "the Vendor", "the Provider" and "NovaStack" all read as the supplier
side, and words in the scope of a negation get a `not_` prefix, so that "shall not install" and "may install"
are different features.
"""
from __future__ import annotations

import re

from .clauses import BUYER_ROLE_WORDS, VENDOR_ROLE_WORDS, Parties, clause_parties

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[.;:,()]")
_NEGATORS = frozenset({"not", "no", "never", "without", "neither", "nor", "cannot", "except", "unless", "n't"})
_SCOPE_END = frozenset({".", ";", ":", ",", "(", ")", "but", "except", "unless", "provided"})
_NEGATION_WINDOW = 4
_VENDOR = frozenset(w for w in VENDOR_ROLE_WORDS if " " not in w) | {"we", "our", "us"}
_BUYER = frozenset(w for w in BUYER_ROLE_WORDS if " " not in w) | {"you", "your"}
_ROLE = {word: "_vendor_" for word in _VENDOR} | {word: "_buyer_" for word in _BUYER}
PARTY_TOKENS = frozenset({"_vendor_", "_buyer_"})


def with_role_words(text: str, parties: Parties | None = None) -> str:
    """The text the model reads: the parties' own names ("Helix Cloud Ltd", "IBM") replaced by a role word,
    so that what a vendor may do reads the same whoever the vendor is. Without `parties` (a clause read on
    its own), the names come from the clause itself (clauses.clause_parties)."""
    parties = clause_parties(text) if parties is None else parties
    names = [(name, "vendor") for name in parties.vendor] + [(name, "customer") for name in parties.buyer]
    names = [(name, role) for name, role in names if name.lower() not in _ROLE]
    if not names:
        return text
    names.sort(key=lambda item: -len(item[0]))  # "Helix Cloud Ltd" before "Helix"
    pattern = re.compile(r"(?<![\w&])(?:" + "|".join(re.escape(name) for name, _ in names) + r")(?![\w&])")
    roles = {name: role for name, role in names}
    return pattern.sub(lambda m: roles.get(m.group(0), "vendor"), text)


def tokens(text: str) -> list[str]:
    lowered = text.lower().replace("’", "'")
    words = _TOKEN.findall(lowered)
    if "'" in lowered:
        words = [word[:-2] if word.endswith("'s") else word for word in words]
    if _NEGATORS.isdisjoint(words):  # the common case, without the scope bookkeeping below
        return [_ROLE.get(word, word) for word in words if word not in _SCOPE_END]
    out: list[str] = []
    negation_left = 0
    for word in words:
        if word in _SCOPE_END:
            negation_left = 0
            continue
        token = _ROLE.get(word, word)
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
    features += [f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:]) if a in PARTY_TOKENS]
    return features
