"""Data classes shared by every pipeline stage: documents, clauses, evidence, findings, reports."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FAMILIES: tuple[str, ...] = (
    "monitoring",
    "energy",
    "surveillance",
    "exit",
    "remote-access",
    "key-custody",
    "data-residency",
    "updates",
)
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
Kind = Literal["risk", "missing"]


@dataclass(frozen=True)
class Document:
    """Extracted text of one contract. `page_starts[i]` is the offset where page i+1 begins."""

    path: str
    format: str
    sha256: str
    text: str
    page_starts: tuple[int, ...] = (0,)

    @property
    def pages(self) -> int:
        return len(self.page_starts)

    def page_at(self, offset: int) -> int:
        """1-based page number holding the character at `offset`."""
        from bisect import bisect_right

        return max(1, bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class Clause:
    """One numbered or headed unit of a contract. `start`/`end` are offsets into Document.text."""

    id: str
    number: str
    heading: str
    text: str
    page: int
    level: int = 0
    parent: str | None = None
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Evidence:
    """One rule matched one span of one clause; offsets are relative to the clause text."""

    rule_id: str
    family: str
    kind: Literal["risk", "protection"]
    clause_id: str
    start: int
    end: int
    text: str
    score: float
    pattern: str
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass
class Finding:
    rule_id: str
    family: str
    kind: Kind
    severity: str
    confidence: float
    source: Literal["pattern", "classifier", "both"]
    clause: Clause | None
    match: Span | None
    message: str
    recommendation: str
    title: str = ""
    fallback: str = ""
    explanation: dict = field(default_factory=dict)


@dataclass
class FamilySummary:
    risks: int = 0
    protected: bool = False


@dataclass(frozen=True)
class Protection:
    """A clause that gives the buyer a family's protection."""

    family: str
    clause: Clause


@dataclass(frozen=True)
class PartyRoles:
    """Who the report reads as the buyer and as the vendor, and how that was decided."""

    buyer: str = ""
    buyer_basis: str = ""
    vendor: str = ""
    vendor_basis: str = ""


@dataclass
class Report:
    document: Document
    clauses: list[Clause]
    findings: list[Finding]
    families: dict[str, FamilySummary]
    risk_score: int
    grade: str
    warnings: tuple[str, ...] = ()  # what makes this report less reliable than usual, for the reader to see first
    parties: PartyRoles = PartyRoles()
    protections: tuple[Protection, ...] = ()  # in clause order
