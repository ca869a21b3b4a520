"""Run a compiled rule set over a document's clauses and collect evidence.

Tokenisation happens once per clause (spaCy, blank English). Anchor phrases (PhraseMatcher) decide which
rules a sentence is a candidate for; only those rules' regexes run on it, and a rule's `unless` patterns
cancel a match in the same sentence (negation, protective wording, a different party). A regex is only
searched (and only compiled) when the sentence holds the literal words it needs (prefilter.py; one scan
of the sentence serves all its candidate rules), and the contract's own party names are masked as
placeholders first, so compiled regexes serve every contract. Noisy text (OCR errors, letter-spaced words)
is repaired against the rules' vocabulary with rapidfuzz before matching.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .clauses import Parties, defined_terms, numbered, pointed_at
from .errors import RuleError
from .model import Clause, Evidence
from .nlp import blank_english
from .prefilter import Requirement, WordScanner, fold_case, passes, required_words
from .regex_cache import RegexCache
from .rules import (BUYER_PLACEHOLDER, VENDOR_PLACEHOLDER, Rule, RuleSet, expand_macros, macro_words,
                    own_party_names, party_name_pattern)

# A sentence ends at . ; or : followed by a capital, a bracketed sub-item or a quote.
_SENTENCE_END = re.compile(r"(?:\.(?=\s+[A-Z(\"“‘])|;(?=\s+[A-Z]))")
_ABBREVIATIONS = ("e.g", "i.e", "etc", "no", "nos", "art", "sec", "ltd", "inc", "co", "st", "cf", "para", "cl", "s")
_LETTER_SPACED = re.compile(r"\b(?:[A-Za-z] ){3,}[A-Za-z]\b")
_SPACED_LETTERS = re.compile(r" [A-Za-z] [A-Za-z] ")  # in any letter-spaced word; found far faster
_WORD = re.compile(r"[A-Za-z]{6,}")  # shorter words are too ambiguous to repair
_INFLECTIONS = ("ations", "ation", "ings", "ing", "ions", "ion", "ers", "er", "ed", "es", "s", "ity", "ies", "y")
_FUZZY_CUTOFF = 90
_REPAIR_MEMO_SIZE = 200_000  # words whose repair (or none) is remembered across documents
_UNSEEN = object()
_CONTEXT_BOOST = 0.05
_MAX_CONTEXT_BOOST = 0.15


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if match.group() == "." and _is_abbreviation(text, match.start()):
            continue
        if text[start:end].strip():
            sentences.append(Sentence(start, end, text[start:end]))
        start = end
        while start < len(text) and text[start] == " ":
            start += 1
    if text[start:].strip():
        sentences.append(Sentence(start, len(text), text[start:]))
    return sentences


def _is_abbreviation(text: str, dot: int) -> bool:
    word = text[max(0, dot - 5):dot].rsplit(" ", 1)[-1].lstrip("(").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _stem(word: str) -> str:
    for suffix in _INFLECTIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class CompiledRules:
    """A RuleSet turned into matchers once; `match` then runs all rules over many clauses."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.rules: list[Rule] = ruleset.active()
        self.nlp, Matcher, PhraseMatcher = blank_english()
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.tokens = Matcher(self.nlp.vocab)
        self.rules_by_anchor: dict[int, list[int]] = {}
        self._regex_cache: dict[str, re.Pattern] = {}
        self._repair_memo: dict[str, str | None] = {}
        self._macro_words = macro_words()
        self._stored = RegexCache.load()  # compiled regexes kept from earlier runs (regex_cache.py)
        anchor_texts: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            for anchor in rule.anchors:
                key = anchor_texts.setdefault(anchor, len(anchor_texts))
                self.rules_by_anchor.setdefault(self.nlp.vocab.strings.add(f"anchor-{key}"), []).append(index)
            if rule.token_patterns:
                try:
                    self.tokens.add(f"rule-{index}", [list(p) for p in rule.token_patterns])
                except ValueError as exc:  # spaCy's MatchPatternError lists every problem on its own lines
                    detail = " ".join(str(exc).split())
                    raise RuleError(f"{rule.source}:{rule.line}: rule '{rule.id}': bad token_patterns ({detail})") from None
        for anchor, key in anchor_texts.items():
            self.phrases.add(f"anchor-{key}", [self.nlp.make_doc(anchor)])
        self.vocabulary = sorted({word for anchor in anchor_texts for word in _WORD.findall(anchor.lower())})
        self._vocabulary_stems = {_stem(word) for word in self.vocabulary}
        self._scanner, self._plans = self._make_plans()

    def _regex(self, source: str, rule: Rule) -> re.Pattern:
        """A rule regex, compiled the first time a sentence that may match it needs it: compiling costs
        far more than searching, and most regexes never get that far in a given contract."""
        compiled = self._regex_cache.get(source)
        if compiled is None:
            try:
                compiled = self._stored.compile(expand_macros(source), re.IGNORECASE)
            except re.error as exc:
                raise RuleError(f"{rule.source}:{rule.line}: rule '{rule.id}': bad regex ({exc})") from None
            self._regex_cache[source] = compiled
        return compiled

    def _required_words(self, source: str) -> Requirement:
        return self._stored.requirement(source, self._compute_required_words)

    def _compute_required_words(self, source: str) -> Requirement:
        return required_words(source, self._macro_words)

    def match(self, clauses: list[Clause], parties: Parties = Parties()) -> list[Evidence]:
        repairs = self._fuzzy_repairs(clauses)
        prefixes = lead_ins(clauses)
        texts = [self._repair(prefix + clause.text, repairs) for prefix, clause in zip(prefixes, clauses)]
        party_mask = _PartyMask.of(parties)
        all_sentences = [split_sentences(text) for text in texts]
        all_candidates = [self._candidates(doc, sentences) for doc, sentences
                          in zip(self.nlp.tokenizer.pipe(texts, batch_size=256), all_sentences)]
        all_extra = self._rules_pointed_at(clauses, all_sentences, all_candidates)
        evidence: list[Evidence] = []
        for clause, lead_in, text, sentences, candidates, extra in zip(
                clauses, prefixes, texts, all_sentences, all_candidates, all_extra):
            if not clause.text:
                continue
            for sentence_index, rules in extra.items():
                candidates.setdefault(sentence_index, set()).update(rules)
            search_text = party_mask.apply(text)
            heading_and_text = f"{clause.heading} {text}".lower()
            repaired = text != lead_in + clause.text
            for sentence_index, rule_indexes in sorted(candidates.items()):
                sentence = sentences[sentence_index]
                if sentence.end <= len(lead_in):
                    continue  # the lead-in alone belongs to the parent clause
                sentence_text = search_text[sentence.start:sentence.end]
                folded = fold_case(sentence_text)
                present = self._scanner.present(folded)
                for rule_index in sorted(rule_indexes):
                    found = self._match_sentence(rule_index, sentence_text, folded, present, sentence.start,
                                                 heading_and_text)
                    if found is None:
                        continue
                    pattern, start, end, score, context = found
                    if end <= len(lead_in):
                        continue  # matched the parent's words only; the parent clause reports that itself
                    if repaired:
                        # The text was repaired (OCR noise); point at the whole clause in the original.
                        start, end = 0, len(clause.text)
                    else:
                        start, end = max(0, start - len(lead_in)), max(1, end - len(lead_in))
                    rule = self.rules[rule_index]
                    evidence.append(Evidence(
                        rule_id=rule.id, family=rule.family, kind=rule.kind, clause_id=clause.id, start=start,
                        end=end, text=clause.text[start:end], score=score, pattern=pattern.name, context=context,
                    ))
        self._stored.save()
        return evidence

    @staticmethod
    def _rules_pointed_at(clauses: list[Clause], all_sentences: list[list[Sentence]],
                          all_candidates: list[dict[int, set[int]]]) -> list[dict[int, set[int]]]:
        """Per clause and sentence, the rules the sentence is a candidate for through what it points at
        (clauses.pointed_at): the anchors of those definitions and clauses count as its own."""
        anchored = {clause.id: set().union(*candidates.values()) for clause, candidates in zip(clauses, all_candidates)}
        definitions = defined_terms(clauses)
        by_number = numbered(clauses)
        extra = []
        for clause, sentences in zip(clauses, all_sentences):
            per_sentence = {}
            if not pointed_at(clause.text, definitions, by_number, clause.id):
                extra.append(per_sentence)  # the common case: the clause points nowhere
                continue
            for index, sentence in enumerate(sentences):
                targets = pointed_at(sentence.text, definitions, by_number, clause.id)
                rules = set().union(*(anchored[target.id] for target in targets)) - anchored[clause.id]
                if rules:
                    per_sentence[index] = rules
            extra.append(per_sentence)
        return extra

    def _candidates(self, doc, sentences: list[Sentence]) -> dict[int, set[int]]:
        """Which rules each sentence must be checked against: its anchors and token patterns decide."""
        candidates: dict[int, set[int]] = {}
        ends = [sentence.end for sentence in sentences]
        for match_id, start, end in self.phrases(doc):
            index = _sentence_index(ends, doc[start].idx)
            candidates.setdefault(index, set()).update(self.rules_by_anchor.get(match_id, ()))
        if len(self.tokens):
            for match_id, start, end in self.tokens(doc):
                rule_index = int(self.nlp.vocab.strings[match_id].split("-", 1)[1])
                candidates.setdefault(_sentence_index(ends, doc[start].idx), set()).add(rule_index)
        return candidates

    def _make_plans(self) -> tuple[WordScanner, list[tuple[list, list]]]:
        """The word scanner over every pattern's required words, and per rule its patterns best score first (the
        first that matches is the one reported) and its `unless` patterns, each with the gate of words a
        sentence needs before the regex is worth searching."""
        requirements = {source: self._required_words(source) for rule in self.rules
                        for source in [pattern.regex for pattern in rule.patterns] + list(rule.unless)}
        scanner = WordScanner(requirements.values())
        gates = {source: scanner.gate(requirement) for source, requirement in requirements.items()}
        plans = []
        for rule in self.rules:
            ranked = sorted(rule.patterns, key=lambda pattern: -pattern.score)  # stable: ties keep file order
            plans.append(([(pattern, gates[pattern.regex]) for pattern in ranked],
                          [(source, gates[source]) for source in rule.unless]))
        self._stored.save()
        return scanner, plans

    def _match_sentence(self, rule_index: int, text: str, folded: str, present: int, offset: int,
                        heading_and_text: str):
        patterns, unless = self._plans[rule_index]
        rule = self.rules[rule_index]
        for pattern, gate in patterns:
            if passes(gate, present, folded):
                found = self._regex(pattern.regex, rule).search(text)
                if found:
                    break
        else:
            return None
        if any(passes(gate, present, folded) and self._regex(source, rule).search(text) for source, gate in unless):
            return None
        context = tuple(word for word in rule.context if word in heading_and_text)
        score = round(min(0.99, pattern.score + min(_MAX_CONTEXT_BOOST, _CONTEXT_BOOST * len(context))), 3)
        return pattern, offset + found.start(), offset + found.end(), score, context

    def _fuzzy_repairs(self, clauses: list[Clause]) -> dict[str, str]:
        """Map noisy words ('rnonitoring', 'encryptlon') to the rule vocabulary word they were meant to be.

        A word's repair depends on the word alone, so it is remembered across documents (the memo)."""
        memo = self._repair_memo
        if len(memo) > _REPAIR_MEMO_SIZE:
            memo.clear()
        repairs, unknown = {}, []
        # Letter runs never cross white space, so each distinct chunk of text is read once.
        chunks = set("\n".join(clause.text for clause in clauses).split())
        words = {word.lower() for chunk in chunks for word in _WORD.findall(chunk)}
        for word in words:
            target = memo.get(word, _UNSEEN)
            if target is _UNSEEN:
                if _stem(word) in self._vocabulary_stems:
                    memo[word] = None
                else:
                    unknown.append(word)
            elif target is not None:
                repairs[word] = target
        if unknown and self.vocabulary:
            from rapidfuzz import fuzz, process

            unknown.sort()
            scores = process.cdist(unknown, self.vocabulary, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, workers=1)
            for row, word in zip(scores, unknown):
                best = int(row.argmax())
                target = self.vocabulary[best]
                repair = target if row[best] >= _FUZZY_CUTOFF and _looks_like_misspelling(word, target) else None
                memo[word] = repair
                if repair is not None:
                    repairs[word] = repair
        return repairs

    @staticmethod
    def _repair(text: str, repairs: dict[str, str]) -> str:
        if _SPACED_LETTERS.search(text):
            text = _LETTER_SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
        if not repairs:
            return text
        lowered = text.lower()
        if not any(word in lowered for word in repairs):
            return text
        return _WORD.sub(lambda m: repairs.get(m.group(0).lower(), m.group(0)), text)


@dataclass(frozen=True)
class _PartyMask:
    """Replaces the contract's own party names with same-length placeholders (see rules.py)."""

    vendor: re.Pattern | None
    buyer: re.Pattern | None
    folded_names: tuple[str, ...]  # to skip, cheaply, the many clauses that name neither party

    @classmethod
    def of(cls, parties: Parties) -> _PartyMask:
        names = own_party_names(parties.vendor) + own_party_names(parties.buyer)
        return cls(party_name_pattern(parties.vendor), party_name_pattern(parties.buyer),
                   tuple(fold_case(name) for name in names))

    def apply(self, text: str) -> str:
        folded = fold_case(text)
        if not any(name in folded for name in self.folded_names):
            return text
        if self.vendor is not None:
            text = self.vendor.sub(lambda m: VENDOR_PLACEHOLDER * len(m.group()), text)
        if self.buyer is not None:
            text = self.buyer.sub(lambda m: BUYER_PLACEHOLDER * len(m.group()), text)
        return text


def _looks_like_misspelling(word: str, target: str) -> bool:
    """OCR noise changes a letter or two in place ('rnonitoring', 'encryptlon'): the length moves by one at
    most. A word that contains the vocabulary word or is contained in it ('determination', 'undisclosed',
    'retain') is a different word, as is one two letters longer or shorter ('diagnosis', 'diagnostics')."""
    if target in word or word in target or abs(len(word) - len(target)) > 1:
        return False
    return not (_stem(target).startswith(_stem(word)) or _stem(word).startswith(_stem(target)))


def _sentence_index(ends: list[int], offset: int) -> int:
    """The sentence holding `offset`, given the sentences' end offsets in order (the last one past them all):
    a binary search, since a clause may hold thousands of sentences."""
    return min(bisect.bisect_right(ends, offset), len(ends) - 1)


_LEAD_IN_END = re.compile(r"(?:[:\-–—]|\b(?:shall|will|may|must|not|that|to|agrees|undertakes|includes|including|following))\s*$", re.IGNORECASE)

# "..., provided that:" introduces conditions, not the rest of the parent's sentence.
_PROVISO_END = re.compile(r"\b(?:provided(?:\s+always)?|on\s+condition|unless|if|where|except|save)(?:\s+that)?\s*[:\-–—]?\s*$", re.IGNORECASE)


def lead_ins(clauses: list[Clause]) -> list[str]:
    """A sub-paragraph inherits its parent's lead-in ('The City shall not:') so that party and negation carry over."""
    by_id = {clause.id: clause for clause in clauses}
    of_parent: dict[str, str] = {}  # a parent's lead-in, worked out once for all its sub-paragraphs
    prefixes = []
    for clause in clauses:
        parent = by_id.get(clause.parent) if clause.parent else None
        if parent is None:
            prefixes.append("")
            continue
        prefix = of_parent.get(parent.id)
        if prefix is None:
            prefix = of_parent[parent.id] = _lead_in(parent.text)
        prefixes.append(prefix)
    return prefixes


def _lead_in(text: str) -> str:
    if text and _LEAD_IN_END.search(text) and not _PROVISO_END.search(text):
        return split_sentences(text)[-1].text + " "
    return ""
