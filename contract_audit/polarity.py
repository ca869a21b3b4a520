"""Is a protection that a clause seems to give actually granted to the buyer?

A rule or the classifier can recognise the wording of a protection ("customer-held keys", "audit", "terminate
for convenience") in a sentence that takes it away: "The City shall not hold any encryption key", "Customer-held
keys are not supported", "audits only under the Premium tier", "subject to the Supplier's approval". Reading
such a sentence as a protection would silence the very risk it creates, so the sentence is checked here.

The wording lives in lexicons (one per language; English so far) and the logic is stated once: a protection
in a sentence is withheld when the sentence denies the buyer the right, says the feature is unavailable,
sells it separately, or leaves it to the vendor's discretion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .clauses import BUYER_ROLE_WORDS, VENDOR_ROLE_WORDS


@dataclass(frozen=True)
class Lexicon:
    buyer: tuple[str, ...]
    vendor: tuple[str, ...]
    negated_modal: str  # a modal or auxiliary with its negation: "shall not", "cannot", "has no right to"
    buyer_actions: tuple[str, ...]  # what a buyer's right lets it do; their negation takes the right away
    unavailable: tuple[str, ...]  # "not supported", "is not offered"
    exempt_after_unavailable: str  # "... not available to the Supplier" protects: no denial of the buyer
    for_sale: tuple[str, ...]  # the protection is sold, not given
    vendor_discretion: tuple[str, ...]  # {vendor} stands for the vendor's names
    provisos: tuple[str, ...]  # a right followed by a list of conditions ("provided that:")
    vendor_refusal: str  # the vendor owes nothing: "shall have no obligation to", "is not required to"
    broad_exceptions: str  # a refusal followed by a list of exceptions: "will not use ... except (a) ... (c)"


ENGLISH = Lexicon(
    buyer=(*BUYER_ROLE_WORDS, "you", "customers", "clients", "licensees", "state", "commission", "board", "bank",
           "company", "recipient", "owner", "user", "users", "member"),
    vendor=(*VENDOR_ROLE_WORDS, "we", "us", "processor", "subprocessor", "host", "hosting provider"),
    negated_modal=(r"(?:(?:shall|will|may|must|can|could|does|do|is|are)\s+not|cannot|can't|won't|shan't|"
                   r"(?:has|have|shall\s+have|will\s+have)\s+no\s+(?:right|power|ability|option)\s+to|"
                   r"(?:is|are|shall\s+not\s+be|will\s+not\s+be)\s+not\s+(?:entitled|permitted|allowed|able)\s+to)"),
    buyer_actions=("hold", "have", "access", "audit", "terminate", "cancel", "inspect", "install", "run", "monitor",
                   "export", "retain", "manage", "control", "receive", "obtain", "approve", "reject", "refuse",
                   "test", "generate", "keep", "bring", "supply", "own", "decline", "defer", "roll back", "revert",
                   "exit", "withdraw", "migrate", "review", "examine", "scan", "deploy", "disable", "enable",
                   "opt out", "opt in", "store", "host", "be entitled", "be permitted", "be allowed"),
    unavailable=(r"(?:is|are|shall\s+be|will\s+be|be)\s+not\s+(?:supported|available|offered|included|provided|possible|permitted)",
                 r"(?:may|shall|can|will)\s+not\s+be\s+(?:terminated|cancell?ed|ended|audited|inspected|exported|"
                 r"returned|migrated|transferred|rejected|refused|disabled)\s+(?:[\w-]+\s+){0,3}?by\s+(?:either|any|each|the\s+(?:buyer|customer|city|client|authority))",
                 r"not\s+(?:currently\s+)?(?:supported|offered)", r"(?:is|are)\s+(?:unsupported|unavailable)",
                 r"(?:does|do|will|shall)\s+not\s+(?:support|offer|include|provide)\b(?!\s+(?:to|for)\b)",
                 r"no\s+(?:[\w-]+\s+){0,3}(?:is|are|shall\s+be|will\s+be)\s+(?:supported|available|offered|provided)"),
    exempt_after_unavailable=(r"\s+(?:to|for)\s+(?:the\s+|any\s+)?(?:{vendor}|third|other|anyone|any\s+person|"
                              r"persons?|personnel|staff|employees?|subcontractors?|public)"),
    for_sale=(r"only\s+(?:under|with|in|on|for|as\s+part\s+of|to\s+customers\s+(?:on|of))\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,3}?"
              r"(?:tier|plan|edition|package|subscription|add-?on|option|bundle|service\s+level)s?\b",
              r"(?:premium|enterprise|professional|advanced|gold|platinum)\s+(?:tier|plan|edition|package|subscription)\b",
              r"(?:for|at|against)\s+an?\s+(?:additional|extra|separate|further)\s+(?:fee|charge|cost|price|payment)",
              r"subject\s+to\s+(?:the\s+)?(?:payment\s+of\s+)?(?:additional|extra|separate)\s+(?:fees?|charges?|costs?)",
              r"(?:available|offered|provided)\s+as\s+an?\s+(?:paid|chargeable|optional)\s+(?:option|add-?on|service|extra)",
              r"(?:charged|chargeable|billed|invoiced)\s+(?:[\w-]+\s+){0,2}?at\s+(?:[\w'’-]+\s+){0,3}?(?:then[- ]current|standard|"
              r"prevailing|applicable|hourly|daily|list)\s+(?:[\w-]+\s+){0,3}?(?:rates?|prices?|fees?|charges?)"),
    vendor_discretion=(r"subject\s+to\s+(?:the\s+)?{vendor}(?:'s|’s)?\s+(?:prior\s+)?(?:written\s+)?(?:approval|consent|agreement|discretion|authori[sz]ation)",
                       r"(?:auditors?|firms?|assessors?|inspectors?|examiners?)\s+(?:(?:designated|appointed|selected|chosen|nominated|approved|engaged)\s+(?:solely\s+|exclusively\s+)?by)\s+(?:the\s+)?{vendor}",
                       r"(?:satisfied|fulfilled|met|discharged)\s+(?:solely\s+|only\s+|exclusively\s+)?(?:by|through)\s+(?:the\s+)?(?:{vendor}(?:'s|’s)?\s+)?(?:own\s+|internal\s+)?(?:third[- ]party\s+)?(?:reports?|certifications?|certificates?|attestations?|audit\s+reports?|summaries|soc\s*\d?\s+reports?)",
                       r"(?:in|at)\s+(?:the\s+)?{vendor}(?:'s|’s)\s+(?:sole\s+|absolute\s+|reasonable\s+)?discretion",
                       r"at\s+(?:the\s+)?(?:sole\s+|absolute\s+)?discretion\s+of\s+(?:the\s+)?{vendor}",
                       r"(?:if|where|when|as|unless)\s+(?:the\s+)?{vendor}\s+(?:so\s+)?(?:in\s+its\s+\w+\s+discretion\s+)?(?:deems?|considers?|determines?|agrees?|elects?|decides?|approves?)",
                       r"{vendor}\s+may,?\s+but\s+(?:is|shall\s+be)\s+not\s+(?:obliged|obligated|required)\s+to"),
    vendor_refusal=(r"(?:shall|will)\s+(?:have|bear)\s+no\s+(?:obligation|duty|liability|responsibility)\s+to|"
                    r"(?:is|are|shall\s+not\s+be|will\s+not\s+be)\s+not\s+(?:obliged|obligated|required|bound)\s+to|"
                    r"(?:shall|will)\s+not\s+be\s+(?:obliged|obligated|required|bound)\s+to|"
                    r"(?:has|have)\s+no\s+(?:obligation|duty)\s+to"),
    broad_exceptions=r"(?:except|other\s+than|save|unless)\b[^.;]{0,60}?\(\s*(?:a|i|1)\s*\)[^.]{0,400}?\(\s*(?:c|iii|3)\s*\)",
    provisos=(r"provided\s+(?:always\s+)?that\s*:", r"on\s+(?:the\s+)?conditions?\s+that\s*:",
              r"subject\s+to\s+the\s+following(?:\s+conditions)?\s*:"),
)

REASONS = {
    "negated": "the buyer is denied this right",
    "unavailable": "the protection is stated as not available",
    "for_sale": "the protection is only sold separately (another tier, option or fee)",
    "vendor_discretion": "the protection is left to the vendor's approval or discretion",
    "vendor_refusal": "the vendor is not obliged to provide it",
    "broad_exceptions": "the promise comes with a list of exceptions, which may hollow it out (read them)",
    "provisos": "the right is granted subject to a list of provisos, which may hollow it out (read them)",
}


@dataclass(frozen=True)
class _Compiled:
    sentence_end: re.Pattern
    checks: tuple[tuple[str, re.Pattern], ...]


def _words(words) -> str:
    ordered = sorted({w.lower() for w in words}, key=lambda w: (-len(w), w))
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


@lru_cache(maxsize=8)
def _compiled(lexicon: Lexicon = ENGLISH, buyer_names: tuple[str, ...] = ()) -> _Compiled:
    vendor = rf"(?:{_words(lexicon.vendor)})"
    buyer = rf"(?:{_words(lexicon.buyer + buyer_names)})"
    actions = _words(lexicon.buyer_actions)
    fill = lambda pattern: pattern.replace("{vendor}", vendor)  # noqa: E731
    # Words between the buyer and its modal are bounded ("the City, acting through its officers, shall not").
    negated = rf"\b{buyer}(?:['’]s)?\b(?:\s+[\w,'’-]+){{0,4}}?\s+{lexicon.negated_modal}\s+(?:\w+\s+){{0,2}}?(?:{actions})\b"
    unavailable = rf"\b(?:{'|'.join(lexicon.unavailable)})\b(?!{fill(lexicon.exempt_after_unavailable)})"
    checks = (
        ("negated", negated),
        ("unavailable", unavailable),
        ("for_sale", rf"\b(?:{'|'.join(lexicon.for_sale)})"),
        ("vendor_discretion", rf"\b(?:{'|'.join(fill(p) for p in lexicon.vendor_discretion)})"),
        ("vendor_refusal", rf"\b(?:{vendor}|we)\b(?:\s+[\w,'’-]+){{0,3}}?\s+(?:{lexicon.vendor_refusal})"),
        ("broad_exceptions", rf"\b{lexicon.broad_exceptions}"),
        ("provisos", rf"\b(?:{'|'.join(lexicon.provisos)})"),
    )
    return _Compiled(re.compile(r"(?<=[.;])\s+(?=[A-Z(\"“])"),
                     tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in checks))


def denial(sentence: str, buyer_names: tuple[str, ...] = ()) -> str | None:
    """Why a sentence does not grant the buyer a protection it words, or None."""
    for name, pattern in _compiled(ENGLISH, tuple(buyer_names)).checks:
        if pattern.search(sentence):
            return name
    return None


def withheld_protection(text: str, families: set[str], vocabulary: dict[str, frozenset[str]],
                        buyer_names: tuple[str, ...] = ()) -> dict[str, str]:
    """For each of `families` that `text` seems to protect: the reason it does not, where a sentence about
    that family's subject denies it (see REASONS). Families not returned are protected as read."""
    from .fusion import topics

    sentences = _compiled(ENGLISH, tuple(buyer_names)).sentence_end.split(text)
    reasons = [denial(sentence, buyer_names) for sentence in sentences]
    if not any(reasons):
        return {}
    if len(sentences) == 1:
        return {family: REASONS[reasons[0]] for family in families}
    withheld: dict[str, str] = {}
    granting: set[str] = set()
    for sentence, reason in zip(sentences, reasons):
        about = topics(sentence, vocabulary) & families
        if reason is None:
            granting |= about
        else:
            for family in about:
                withheld.setdefault(family, REASONS[reason])
    return {family: reason for family, reason in withheld.items() if family not in granting}
