"""Split a Document into clauses (number, heading, hierarchy, page) and find who the parties are."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .model import Clause, Document, PartyRoles
from .prefilter import fold_case

_ROMAN = r"[ivxlcdm]+"
_KEYWORD_MARKER = re.compile(
    r"^(?P<kw>article|section|sub-clause|clause|part|schedule|annex|appendix|exhibit|attachment)\s+"
    r"(?P<num>\d+(?:\.\d+)*[A-Z]?|[IVXLC]+|[A-Z])(?!\.?\d)(?P<sub>(?:\([a-z0-9]{1,4}\))*)\.?(?=[\s:.\-–—]|$)",
    re.IGNORECASE,
)
# "1.Services" (no space after the dot) is common in typed filings.
_DECIMAL_MARKER = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3}){0,4})(?P<dot>\.?)(?=\s+\S|$|(?<=\.)[A-Z][a-z])")
_PAREN_MARKER = re.compile(r"^(?:\((?P<p>[a-z]{1,4}|[A-Z]|\d{1,2})\)|(?P<h>[a-z]|" + _ROMAN + r")\))(?=\s+\S)")
_HEADING_SPLIT = re.compile(r"^\s*(?:[-–—:.]\s*)?(?P<head>[^.:;]{2,80}?)(?:\s*[.:]\s+|\s+[-–—]\s+|\s*[.:]?$)")
_CONTAINER_KEYWORDS = {"schedule", "annex", "appendix", "exhibit", "attachment"}
_MAX_TOP_LEVEL_JUMP = 3

# Party roles by the words contracts use to define them.
VENDOR_ROLE_WORDS = (
    "supplier", "vendor", "provider", "service provider", "contractor", "licensor", "consultant", "seller",
    "integrator", "operator", "developer", "manufacturer", "consortium",
)
BUYER_ROLE_WORDS = (
    "city", "customer", "client", "authority", "contracting authority", "municipality", "purchaser",
    "employer", "licensee", "council", "agency", "government", "buyer", "ministry", "department",
    "procuring entity", "county", "contracting officer",
)
_DEFINED_TERM = re.compile(
    r"(?:\(\s*|,?\s*(?=(?:hereinafter|hereafter)\b))(?:(?:hereinafter|hereafter)\s+)?(?:(?:referred\s+to|called|designated)\s+)?"
    r"(?:as\s+)?(?:the\s+)?[\"“”']{1}(?:the\s+)?(?P<term>[A-Z][\w&\- ]{1,40}?)[\"“”']{1}\s*\)?"
)
# Before a defined term, the name it stands for: "between the City of Brightwater (the "City") and Helix Cloud
# Ltd, a company registered in Ireland (the "Supplier")". The name starts after the last connector and runs
# over capitalised words (and the small words inside names) up to its first comma or lower-case word.
_NAME_CONNECTOR = re.compile(r"(?:\bbetween|\band|\bby|\bwith|[;:)])\s+|\n\s*\n\s*|^\s*", re.IGNORECASE)
# What may stand between a party's name and its defined term: ", a company registered in Ireland", ", Party A".
_DESCRIPTOR = re.compile(r"^\s*(?:,\s*(?:(?:a|an|the|acting|having|whose|with|registered|incorporated|organi[sz]ed|"
                         r"established|located|duly|its|which|Party|First|Second)\b[^()\"“”]{0,240}?)?)?[,.]?\s*$")
_COMPANY_SUFFIX = re.compile(r"^,?\s+(?:Ltd|Limited|Inc|LLC|L\.L\.C|PLC|S\.A|SA|GmbH|AG|B\.V|BV|N\.V|N\.A|Pty|Corp)\b\.?")
_NAME_RUN = re.compile(
    r"^(?:[Tt][Hh][Ee]\s+)?(?P<name>(?:[A-Z0-9][\w&'’.-]*)(?:\s+(?:(?:of|and|de|du|la|for|the|&)\s+)*[A-Z0-9][\w&'’.-]*){0,7})")
_NOT_A_NAME = frozenset({"this", "these", "that", "each", "either", "both", "whereas", "now", "agreement", "contract",
                         "party", "parties", "it", "its", "a", "an"})
# "Party B (the Supplier)", "the Second Party (the "Contractor")": contracts that keep using the name.
_NAME_WITH_ROLE = re.compile(
    r"(?P<name>\bParty\s+[A-Z]\b|\b(?:First|Second|Third)\s+Party\b)\s*\(\s*(?:hereinafter\s+)?(?:the\s+)?[\"“]?"
    r"(?P<role>[A-Za-z][A-Za-z ]{2,40}?)[\"”]?\s*\)"
)
_ROLE_HINT = re.compile(r"\bas\s+(?:the\s+)?(?P<role>\w+(?:\s\w+)?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Parties:
    """Names the contract uses for the supplier side and for the buying city, beyond the usual role words, and
    how each side was recognised ("from the preamble: ..."), for the report to say."""

    vendor: tuple[str, ...] = ()
    buyer: tuple[str, ...] = ()
    defined_terms: tuple[str, ...] = field(default=())
    vendor_basis: str = ""
    buyer_basis: str = ""


@dataclass
class _Marker:
    kind: str  # "keyword", "decimal", "paren", "heading"
    label: str
    level: int
    container: bool = False


def split_clauses(document: Document) -> list[Clause]:
    """Return the document's clauses in reading order; text before the first marker is the preamble."""
    lines = _lines_with_offsets(document.text)
    state = _NumberingState()
    builders: list[dict] = []
    pending_heading: tuple[str, int] | None = None
    previous_line = ""
    for line, offset in lines:
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        marker = state.recognise(stripped, builders, previous_line)
        previous_line = stripped
        if marker is not None:
            start = offset + lead
            if pending_heading is not None and marker.kind != "keyword":
                start = pending_heading[1]
            builders.append(
                {"marker": marker, "start": start, "end": offset + len(line), "line_start": offset + lead,
                 "heading": pending_heading[0] if pending_heading else "", "container": state.container}
            )
            pending_heading = None
            continue
        if _is_unnumbered_heading(stripped, builders):
            pending_heading = (stripped.rstrip(":"), offset + lead)
            continue
        if pending_heading is not None:
            # A heading followed by ordinary text opens an unnumbered clause.
            builders.append(
                {"marker": _Marker("heading", "", state.current_level() + 1), "start": pending_heading[1],
                 "end": offset + len(line), "line_start": pending_heading[1], "heading": pending_heading[0],
                 "container": state.container}
            )
            pending_heading = None
            continue
        if builders:
            builders[-1]["end"] = offset + len(line)
        else:
            builders.append(
                {"marker": _Marker("preamble", "", 0), "start": offset + lead, "end": offset + len(line),
                 "line_start": offset + lead, "heading": "", "container": ""}
            )
    return _build(document, builders)


def _lines_with_offsets(text: str) -> list[tuple[str, int]]:
    out, offset = [], 0
    for line in text.split("\n"):
        out.append((line, offset))
        offset += len(line) + 1
    return out


def _is_unnumbered_heading(line: str, builders: list[dict]) -> bool:
    words = line.split()
    if not 1 <= len(words) <= 8 or len(line) > 80 or line[-1] in ",;":
        return False
    if line.endswith(".") and not line.isupper():
        return False
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 3:
        return False
    if line.isupper():
        return True
    small = {"and", "of", "the", "to", "for", "in", "on", "a", "an", "or", "by", "with"}
    return all(w[0].isupper() or w.lower() in small or not w[0].isalpha() for w in words)


class _NumberingState:
    """Tracks the numbering seen so far, so that a wrapped line starting with '12' or '(b)' is not a clause."""

    def __init__(self) -> None:
        self.top = 0
        self.decimal_path: list[int] = []
        self.container = ""
        self.paren_stack: list[tuple[str, str]] = []  # (style, label)
        self.seen_numbered = False

    def current_level(self) -> int:
        return len(self.decimal_path) + len(self.paren_stack)

    def recognise(self, line: str, builders: list[dict], previous_line: str = "") -> _Marker | None:
        keyword = _KEYWORD_MARKER.match(line)
        if keyword and _keyword_is_marker(line, keyword) and self._keyword_plausible(keyword):
            return self._keyword(keyword)
        decimal = _DECIMAL_MARKER.match(line)
        if decimal:
            marker = self._decimal(decimal)
            if marker is not None:
                return marker
        paren = _PAREN_MARKER.match(line)
        if paren and builders and not _continues_sentence(previous_line):
            return self._paren(paren.group("p") or paren.group("h"))
        return None

    def _keyword(self, match: re.Match) -> _Marker:
        kw = match.group("kw").lower()
        num = match.group("num")
        sub = match.group("sub") or ""
        self.paren_stack = []
        if kw in _CONTAINER_KEYWORDS:
            if not self.seen_numbered or not _is_container_heading(match):
                # A filing's cover ("EXHIBIT 10.2") precedes the contract; it does not contain its clauses.
                return _Marker("heading", "", 1)
            self.container = f"{kw.title()} {num}"
            self.top = 0
            self.decimal_path = []
            return _Marker("keyword", self.container, 0, container=True)
        parts = [int(p) for p in num.split(".") if p.isdigit()] if num[0].isdigit() else [_roman_value(num)]
        if parts and parts[0]:
            self.decimal_path = parts
            self.top = parts[0]
            self.seen_numbered = True
        label = f"{kw.title() if kw in ('article', 'part') else ''} {num}{sub}".strip()
        if kw in ("section", "clause", "sub-clause"):
            label = f"{num}{sub}"
        return _Marker("keyword", label, len(parts) if parts else 1)

    def _keyword_plausible(self, match: re.Match) -> bool:
        """'Clause 2.4' at the start of a wrapped line is usually a cross-reference, not a new clause."""
        if match.group("kw").lower() not in ("section", "clause", "sub-clause"):
            return True
        num = match.group("num")
        if not num[0].isdigit():
            return True
        return self._plausible([int(p) for p in num.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").split(".")])

    def _decimal(self, match: re.Match) -> _Marker | None:
        parts = [int(p) for p in match.group("num").split(".")]
        if len(parts) == 1 and not match.group("dot"):
            return None  # a bare "12 " at a line start is far more often a wrapped number than a clause
        if not self._plausible(parts):
            return None
        self.decimal_path = parts
        self.top = parts[0]
        self.paren_stack = []
        self.seen_numbered = True
        return _Marker("decimal", ".".join(map(str, parts)), len(parts))

    def _plausible(self, parts: list[int]) -> bool:
        if len(parts) == 1:
            return 0 < parts[0] - self.top <= _MAX_TOP_LEVEL_JUMP or (self.top == 0 and parts[0] <= _MAX_TOP_LEVEL_JUMP)
        if parts[0] == self.top:
            return True
        # "4.1" may open clause 4 when its heading line was not numbered on its own.
        return 0 < parts[0] - self.top <= _MAX_TOP_LEVEL_JUMP and parts[1] <= 1

    def _paren(self, label: str) -> _Marker | None:
        style = _paren_style(label, self.paren_stack)
        if style is None:
            return None
        # Pop back to the level that uses this style, or push a new level.
        for depth, (existing_style, _) in enumerate(self.paren_stack):
            if existing_style == style:
                self.paren_stack = self.paren_stack[:depth]
                break
        if len(self.paren_stack) >= 3:
            return None
        self.paren_stack.append((style, label))
        return _Marker("paren", f"({label})", len(self.decimal_path) + len(self.paren_stack))


_LIST_JOINERS = {"and", "or", "but", "then", "and/or"}


def _continues_sentence(previous_line: str) -> bool:
    """True when the previous line stops mid-sentence ('...installed on five'), so '(5) pilot...' is wrapped text."""
    words = previous_line.rstrip().split()
    if not words:
        return False
    last = words[-1]
    return last[-1].isalnum() and last[0].islower() and last.lower() not in _LIST_JOINERS


def _is_container_heading(match: re.Match) -> bool:
    """'SCHEDULE 2 - PRICING' opens a schedule; 'Schedule 2. The charges are...' is a wrapped reference."""
    rest = match.string[match.end():].strip().lstrip("-–—:.").strip()
    return not rest or _is_title(rest.rstrip("."))


def _keyword_is_marker(line: str, match: re.Match) -> bool:
    """'Section 4.2 Data' opens a clause; 'Section 4.2 of this Agreement applies' is a reference."""
    rest = line[match.end():].strip()
    if not rest:
        return True
    if rest[0] in "-–—:." or rest[0].isupper() or rest[0] == "(":
        return not re.match(r"^(of|to|and|or|above|below|hereof|herein)\b", rest, re.IGNORECASE)
    return False


def _paren_style(label: str, stack: list[tuple[str, str]]) -> str | None:
    if label.isdigit():
        return "digit"
    if label.isupper():
        return "upper"
    if re.fullmatch(_ROMAN, label):
        # "(i)" after "(h)" is a letter; "(v)" after "(iv)" is a numeral.
        previous = {style: prev for style, prev in stack}
        letter_prev = previous.get("letter")
        if letter_prev and len(label) == 1 and ord(label) == ord(letter_prev) + 1:
            return "letter"
        if label in ("i",) or "roman" in previous or len(label) > 1:
            return "roman"
        return "letter"
    if len(label) == 1:
        return "letter"
    if len(set(label)) == 1:  # (aa), (bb)
        return "letter"
    return None


def _roman_value(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total, previous = 0, 0
    for char in reversed(numeral.upper()):
        value = values.get(char, 0)
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


def _build(document: Document, builders: list[dict]) -> list[Clause]:
    clauses: list[Clause] = []
    stack: list[Clause] = []  # open ancestors by level
    for index, b in enumerate(builders):
        marker: _Marker = b["marker"]
        raw = document.text[b["line_start"]:b["end"]]
        body = _strip_label(raw, marker)
        text = " ".join(body.split())
        heading = b["heading"]
        if marker.kind in ("decimal", "keyword") and not heading:
            heading, text = _split_heading(body)
        elif heading and text.startswith(heading):
            text = text[len(heading):].strip()
        level = marker.level
        while stack and stack[-1].level >= level and level > 0:
            stack.pop()
        parent = stack[-1] if stack else None
        number = _qualified_number(marker, parent, b["container"])
        clause = Clause(
            id=f"c{index}", number=number, heading=heading, text=text,
            page=document.page_at(b["start"]), level=level, parent=parent.id if parent else None,
            start=b["start"], end=b["end"],
        )
        clauses.append(clause)
        if level > 0 or marker.container:
            stack.append(clause)
    return clauses


def _strip_label(raw: str, marker: _Marker) -> str:
    stripped = raw.lstrip()
    if marker.kind == "decimal":
        return _DECIMAL_MARKER.sub("", stripped, count=1)
    if marker.kind == "paren":
        return _PAREN_MARKER.sub("", stripped, count=1)
    if marker.kind == "keyword":
        return _KEYWORD_MARKER.sub("", stripped, count=1)
    return stripped


_SMALL_WORDS = {"and", "of", "the", "to", "for", "in", "on", "or", "by", "with", "a", "an"}
# A word that no title contains (see _is_title): lowercase first letter, and not a small word in any case
# ("aND"), even once a title's closing '.' or ':' is cut off it ("to:").
_UNTITLED_WORD = re.compile(r"(?<!\S)(?!(?i:" + "|".join(sorted(_SMALL_WORDS)) + r")(?!\w))[a-z]")
_TITLE_END = re.compile(r"[.:\-–—]")


def _is_title(head: str) -> bool:
    words = head.split()
    if not 1 <= len(words) <= 10:
        return False
    return head.isupper() or all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words if w[0].isalpha())


def _split_heading(body: str) -> tuple[str, str]:
    """Find a clause's heading: its own first line ('DATA RESIDENCY') or a run-in title ('Data Residency. The...')."""
    first_line, _, rest_lines = body.strip().partition("\n")
    first_line = first_line.strip().lstrip("-–—:. ").strip()
    if rest_lines.strip() and _is_title(first_line.rstrip(".:")) and not first_line.endswith((",", ";")):
        return first_line.rstrip(".: -–—"), " ".join(rest_lines.split())
    text = " ".join(body.split())
    if not _may_open_with_title(text):
        return "", text
    match = _HEADING_SPLIT.match(text)
    if match and _is_title(match.group("head").strip()):
        return match.group("head").strip().rstrip(" -–—"), text[match.end():].strip()
    return "", text


def _may_open_with_title(text: str) -> bool:
    """False when no run-in title can open `text`: a title ends at '.', ':' or a dash, before any word that
    no title contains. Most clauses fail this at once ('The Supplier shall ...'), sparing the heading regex,
    whose lazy search is costly on long text."""
    untitled = _UNTITLED_WORD.search(text)
    return untitled is None or _TITLE_END.search(text, 0, untitled.start()) is not None


def _qualified_number(marker: _Marker, parent: Clause | None, container: str) -> str:
    if marker.kind == "paren":
        base = parent.number if parent else ""
        separator = " para " if parent is not None and parent.level == 0 and base else ""
        return f"{base}{separator}{marker.label}"
    if marker.kind in ("heading", "preamble"):
        return ""
    if marker.container or not container:
        return marker.label
    return f"{container} para {marker.label}"


def find_parties(document: Document, buyer: str | None = None, vendor: str | None = None) -> Parties:
    """Collect defined terms and sort the party names into the supplier side and the buyer side. A `buyer` or
    `vendor` name given by the user replaces what the text suggests for that side."""
    return with_overrides(parties_in_text(document.text[:20000]), buyer, vendor)


def with_overrides(parties: Parties, buyer: str | None, vendor: str | None) -> Parties:
    """The parties with the user's own reading of either side; a name given for one side leaves the other."""
    buyer, vendor = (buyer or "").strip(), (vendor or "").strip()
    buyers, vendors = list(parties.buyer), list(parties.vendor)
    buyer_basis, vendor_basis = parties.buyer_basis, parties.vendor_basis
    if buyer:
        buyers, buyer_basis = [buyer], "as given by the user"
        vendors = [name for name in vendors if name.lower() != buyer.lower()]
    if vendor:
        vendors, vendor_basis = [vendor], "as given by the user"
        buyers = [name for name in buyers if name.lower() != vendor.lower()]
    return replace(parties, buyer=tuple(buyers), vendor=tuple(vendors), buyer_basis=buyer_basis, vendor_basis=vendor_basis)


_WE = re.compile(r"\b(?:we|us|our)\b", re.IGNORECASE)
_YOU = re.compile(r"\b(?:you|your)\b", re.IGNORECASE)


def party_roles(parties: Parties, text: str) -> PartyRoles:
    """What the report says about the parties: a name and how it was found, for each side."""
    buyer = parties.buyer[0] if parties.buyer else ""
    vendor = parties.vendor[0] if parties.vendor else ""
    buyer_basis, vendor_basis = parties.buyer_basis, parties.vendor_basis
    head = text[:20000]
    standard_terms = len(_WE.findall(head)) >= 5 and len(_YOU.findall(head)) >= 5
    if not buyer:
        buyer_basis = ("standard terms written to 'you': read as the buyer" if standard_terms else
                       "not named; read from the role words (the City, the Customer, the Authority, ...)")
    if not vendor:
        vendor_basis = ("standard terms written as 'we/us': read as the vendor" if standard_terms else
                        "not named; read from the role words (the Supplier, the Provider, the Contractor, ...)")
    return PartyRoles(buyer=buyer, buyer_basis=buyer_basis, vendor=vendor, vendor_basis=vendor_basis)


def parties_in_text(head: str) -> Parties:
    """The parties a text names: defined terms introduced after a role ('as the Supplier'), names followed by
    their role in brackets ('Party B (the Supplier)', 'the Second Party (the Contractor)'), and the names that
    a role term stands for ('Helix Cloud Ltd, a company registered in Ireland (the "Supplier")')."""
    vendor: list[str] = []
    buyer: list[str] = []
    terms: list[str] = []
    unplaced: list[tuple[str, str]] = []  # organisations defined in the opening with no role word
    basis = {"vendor": "", "buyer": ""}
    for match in _NAME_WITH_ROLE.finditer(head):
        role = _role_of(match.group("role"))
        if role == "vendor":
            vendor.append(match.group("name"))
        elif role == "buyer":
            buyer.append(match.group("name"))
        if role and not basis[role]:
            basis[role] = f"from the text: {' '.join(match.group(0).split())}"
    for match in _DEFINED_TERM.finditer(head):
        term = match.group("term").strip()
        terms.append(term)
        lowered = term.lower()
        name = _name_before(head, match.start())
        if lowered in VENDOR_ROLE_WORDS or lowered in BUYER_ROLE_WORDS:
            role = "vendor" if lowered in VENDOR_ROLE_WORDS else "buyer"
            names = [name] if name and not _is_role_word(name) else []  # role words are known to the rules
        else:
            role = _role_from_context(head[max(0, match.start() - 120):match.start()])
            names = [term] + ([name] if name and name != term and not _is_role_word(name) else [])
        if role is None:
            if match.start() < _OPENING_CHARS and name and _ORGANISATION.search(name) and lowered not in _NOT_A_PARTY:
                unplaced.append((term, name))
            continue
        (vendor if role == "vendor" else buyer).extend(names)
        if not basis[role]:
            shown = f"{name} (\"{term}\")" if name else f"\"{term}\""
            basis[role] = f"from the opening of the contract: {shown}"
    # Two parties, one recognised by its role: the organisation defined beside it is the other one.
    missing = [side for side in ("vendor", "buyer") if not basis[side]]
    if len(missing) == 1 and 1 <= len(unplaced) <= 2:
        side = missing[0]
        for term, name in unplaced:
            (vendor if side == "vendor" else buyer).extend([term] + ([name] if name != term else []))
        term, name = unplaced[0]
        basis[side] = f"the other party named in the opening of the contract: {name} (\"{term}\")"
    return Parties(vendor=tuple(dict.fromkeys(vendor)), buyer=tuple(dict.fromkeys(buyer)),
                   defined_terms=tuple(dict.fromkeys(terms)), vendor_basis=basis["vendor"], buyer_basis=basis["buyer"])


_OPENING_CHARS = 4000
_ORGANISATION = re.compile(
    r"\b(?:Inc|Ltd|Limited|LLC|L\.L\.C|LLP|PLC|Corporation|Corp|Company|Co|N\.A|GmbH|AG|S\.A|SA|BV|NV|Pty|Bank|"
    r"Association|Trust|Group|Holdings|University|City|County|Council|Municipality|Ministry|Authority|Government|"
    r"Agency|Department|State|Republic|Commission|Board)\b\.?", re.IGNORECASE)

# In a clause read on its own, a named party acting opposite a role word ("Customer may terminate ... upon
# notice to M&I", "IBM reserves the right ...") is the other side. These capitalised words start sentences
# as subjects without being parties.
_NAME_WORD = r"(?:[A-Z][A-Z&]{1,7}|[A-Z][A-Za-z]{1,20})(?![\w&])"
_SUBJECT = re.compile(r"(?<![\w&])(?:The\s+)?(?P<name>" + _NAME_WORD + r"(?:\s+(?:of\s+)?" + _NAME_WORD + r"){0,3})(?:['’]s)?"
                      r"(?:\s+(?:personnel|staff|employees))?(?:\s+(?:and/or|and|or)\s+(?:its|their)\s+[A-Za-z]+)?"
                      r"(?:\s*,[^,]{1,60},)?\s+"
                      r"(?:may|shall|will|must|reserves|retains|agrees|has\s+the\s+right|is\s+entitled|can)\b")
_NOT_A_PARTY = frozenset("""
agreement services service section party parties data software system systems product products order orders form
documentation fees fee term terms contract exhibit schedule attachment annex appendix notice notices information
confidential content materials deliverables work works equipment hardware license licence each either neither the
this that such any all no if in upon subject notwithstanding except unless where when within during after before
following beta feedback usage input output personal it they which who both nothing payment payments invoice invoices
price prices changes change updates update upgrades upgrade releases release it its we you i he she our your their
maintenance support access records report reports plan policy policies sla credits credit charges amendment
modification modifications company facility facilities site premises network platform application applications
account accounts user users affiliates affiliate subcontractor subcontractors provider contractor vendor supplier
licensor licensee customer client government city buyer purchaser owner operator authority agency department
representative representatives auditor auditors agent agents personnel staff employees officer officers
""".split())


def clause_parties(text: str) -> Parties:
    """The parties a free-standing clause names: as in a contract's opening, and otherwise a named party acting
    opposite a role word."""
    found = parties_in_text(text)
    if found.vendor or found.buyer:
        return found
    words = {word.lower() for word in re.findall(r"[A-Za-z]+", text)}
    has_buyer = any(w in words for w in BUYER_ROLE_WORDS if " " not in w) or "you" in words
    has_vendor = any(w in words for w in VENDOR_ROLE_WORDS if " " not in w) or "we" in words
    if has_buyer == has_vendor:
        return found
    names = [m.group("name") for m in _SUBJECT.finditer(text)
             if not any(word in _NOT_A_PARTY for word in m.group("name").lower().split())]
    names = list(dict.fromkeys(names))
    if not names:
        return found
    if has_buyer:
        return replace(found, vendor=tuple(names), vendor_basis="named opposite the buyer in the clause")
    return replace(found, buyer=tuple(names), buyer_basis="named opposite the vendor in the clause")


def _is_role_word(name: str) -> bool:
    lowered = name.lower()
    return lowered in VENDOR_ROLE_WORDS or lowered in BUYER_ROLE_WORDS


def _name_before(head: str, position: int) -> str:
    """The party name that a defined term at `position` stands for, or ''."""
    before = head[max(0, position - 300):position]
    starts = [m.end() for m in _NAME_CONNECTOR.finditer(before)]
    for start in reversed(starts):
        run = _NAME_RUN.match(" ".join(before[start:].split()))
        if run is None:
            continue
        rest = " ".join(before[start:].split())[run.end():]
        suffix = _COMPANY_SUFFIX.match(rest)
        if suffix:
            rest = rest[suffix.end():]
        if not _DESCRIPTOR.match(rest):
            return ""  # the term does not follow this name: it defines something else
        name = (run.group("name") + (suffix.group(0) if suffix else "")).rstrip(",")
        words = name.split()
        if words and words[0].lower() not in _NOT_A_NAME and not (len(words) == 1 and len(name) < 2):
            return name
    return ""


def _role_from_context(before: str) -> str | None:
    hint = _ROLE_HINT.search(before.rstrip(" ,"))
    return _role_of(hint.group("role")) if hint else None


def _role_of(words: str) -> str | None:
    words = words.lower()
    if any(word in words for word in VENDOR_ROLE_WORDS):
        return "vendor"
    if any(word in words for word in BUYER_ROLE_WORDS):
        return "buyer"
    return None


# A definition ('"Update" means ...') names a thing; the clauses that use the term are about that thing.
DEFINITION = re.compile(r"^\W{0,2}[\"“'‘](?P<term>[^\"”'’]{1,80})[\"”'’]\s+(?:means|shall\s+mean|has\s+the\s+meaning|includes|refers\s+to)\b")
_SPECIFIC_TERM_SHARE = 0.05
_SPECIFIC_TERM_MIN_USES = 5
_CROSS_REFERENCE = re.compile(
    r"\b(?:sub-clauses?|clauses?|sections?|articles?|paragraphs?)\s+(\d{1,3}(?:\.\d{1,3}){0,4}(?:\([a-z0-9]{1,4}\))*)",
    re.IGNORECASE,
)
_CROSS_REFERENCE_WORDS = ("clause", "section", "article", "paragraph")  # every match contains one


def defined_terms(clauses: list[Clause]) -> dict[str, Clause]:
    """Defined term (lower case) -> the clause defining it, from clauses such as '"Optional Modules" means ...'.
    Terms the whole contract is about ("Services", "System": used in more than one clause in twenty) say
    nothing about a particular clause's subject and are left out."""
    definitions = {}
    for clause in clauses:
        found = DEFINITION.match(clause.text)
        if found:
            definitions[found.group("term").strip().lower()] = clause
    limit = max(_SPECIFIC_TERM_MIN_USES, len(clauses) * _SPECIFIC_TERM_SHARE)
    lowered = [clause.text.lower() for clause in clauses]
    return {term: clause for term, clause in definitions.items()
            if sum(_singular(term) in text for text in lowered) <= limit}


def definitions_used(text: str, definitions: dict[str, Clause]) -> list[Clause]:
    """The defining clauses of the defined terms a text uses (not the text's own definition)."""
    lowered = text.lower()
    # "Optional Modules" is used as "an Optional Module" too: look for the singular, which the plural contains
    return [clause for term, clause in definitions.items() if _singular(term) in lowered and clause.text != text]


def _singular(term: str) -> str:
    return term[:-1] if term.endswith("s") and not term.endswith("ss") and len(term) > 4 else term


def referenced_clauses(text: str, by_number: dict[str, Clause]) -> list[Clause]:
    """The clauses a text refers to by number ('any function referred to in Clause 2.3')."""
    folded = fold_case(text)
    if not any(word in folded for word in _CROSS_REFERENCE_WORDS):
        return []  # most clauses cite nothing; this check is far cheaper than the regex
    found = []
    for reference in _CROSS_REFERENCE.finditer(text):
        clause = by_number.get(reference.group(1))
        if clause is not None and clause not in found:
            found.append(clause)
    return found


def numbered(clauses: list[Clause]) -> dict[str, Clause]:
    return {clause.number: clause for clause in clauses if clause.number}


def pointed_at(text: str, definitions: dict[str, Clause], by_number: dict[str, Clause], own_id: str = "") -> list[Clause]:
    """What a clause's text points at, whose subject it shares: the definitions of the specific defined terms
    it uses ("the Optional Modules" defined as plate-recognition modules) and the clauses it cites by number
    ("any function referred to in Clause 2.3")."""
    targets = definitions_used(text, definitions) + referenced_clauses(text, by_number)
    return [target for target in targets if target.id != own_id]
