"""Literal words that any match of a rule regex must contain, read from the regex source.

Most (pattern, sentence) pairs cannot match: the sentence lacks a word the pattern needs, or has the words
in the wrong order. Checking a few substrings is far cheaper than a regex search, and it spares compiling
regexes that never get a chance to match. The analysis is conservative: where it is unsure (classes,
lookarounds, macros, optional parts) it requires nothing, so it may let a sentence through that the regex
then rejects, never the reverse.

A requirement is a sequence of word groups in pattern order; a text is admitted when it contains a word of
every group, each after the one before (for a pattern 'a|b', when it meets one branch's requirement). Words
and texts are folded by `fold_case` because rule regexes are compiled case-insensitively.

`admits` states the test plainly. The matcher uses `WordScanner` and `passes`, which decide the same but
read each sentence once for all the patterns it is checked against.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_MIN_WORD = 3  # shorter literals select almost nothing, except rare marks such as '[' or '§'
_COMMON_MARKS = frozenset(" ,.;:!?'\"’‘“”-–—()/&")
_SELECTIVE_GROUPS = 3  # checked first, in any order: most sentences fail here
_PLAIN = re.compile(r"[^\\\[\](){}|.^$*+?]+")
_QUANTIFIER_STARTS = ("*", "+", "?", "{")


@dataclass(frozen=True)
class Requirement:
    ordered: tuple[tuple[str, ...], ...] = ()  # every group, in the order a match contains them
    selective: tuple[tuple[str, ...], ...] = ()  # the groups with the longest words, for a quick rejection
    alternatives: tuple[Requirement, ...] = ()  # a pattern 'a|b' at top level: one branch's requirement suffices


NOTHING = Requirement()


def fold_case(text: str) -> str:
    """Case-folded so that whatever a case-insensitive regex matches folds to the same string: casefold,
    plus the two equivalences `re` adds to it (dotted capital and dotless small i, as in Turkish text). A
    literal looked for in the folded text is then a sound quick check before such a regex."""
    return text.casefold().replace("\u0307", "").replace("ı", "i")


def admits(requirement: Requirement, folded_text: str) -> bool:
    """True when `folded_text` (already folded by `fold_case`) may match: it has a word of every group, in order."""
    if requirement.alternatives:
        return any(admits(branch, folded_text) for branch in requirement.alternatives)
    for group in requirement.selective:
        for word in group:
            if word in folded_text:
                break
        else:
            return False
    if len(requirement.ordered) < 2:
        return True
    return _in_order(tuple(tuple((word, 0) for word in group) for group in requirement.ordered), 0, folded_text)


# A compiled requirement, per branch: its selective groups, each as (bit mask of its scanned words, its other
# words, to look for one by one), and its ordered groups, each word with its bit (0 when not scanned).
Gate = tuple[tuple[tuple[tuple[int, tuple[str, ...]], ...], tuple[tuple[tuple[str, int], ...], ...]], ...]


class WordScanner:
    """Finds which words of the requirements' selective groups a text holds, in one pass (an Aho-Corasick
    automaton), so that a sentence checked against many patterns is read once instead of once per word and
    pattern. `passes` decides exactly as `admits` does.

    Words shorter than four letters (other than rare marks such as '[') are left out: they occur in most
    sentences, so scanning for them costs more than it rejects; they are looked for one by one, as `admits`
    does, and so are words of the ordered groups that are not scanned.
    """

    def __init__(self, requirements) -> None:
        import ahocorasick

        words = sorted({word for requirement in requirements for branch in _branches(requirement)
                        for group in branch.selective for word in group if _scanned(word)})
        self.bits = {word: 1 << index for index, word in enumerate(words)}
        self.automaton = ahocorasick.Automaton()
        for word, bit in self.bits.items():
            self.automaton.add_word(word, bit)
        if words:
            self.automaton.make_automaton()

    def gate(self, requirement: Requirement) -> Gate:
        bits = self.bits
        return tuple(
            (tuple((sum(bits.get(word, 0) for word in group), tuple(w for w in group if w not in bits))
                   for group in branch.selective),
             tuple(tuple((word, bits.get(word, 0)) for word in group) for group in branch.ordered)
             if len(branch.ordered) >= 2 else ())
            for branch in _branches(requirement))

    def present(self, folded_text: str) -> int:
        """The bits of the scanned words that `folded_text` contains."""
        found = 0
        if self.bits:
            for _, bit in self.automaton.iter(folded_text):
                found |= bit
        return found


def passes(gate: Gate, present: int, folded_text: str) -> bool:
    """`admits` for a gate, given `present` from WordScanner.present of the same folded text."""
    for checks, ordered in gate:
        for mask, other_words in checks:
            if present & mask:
                continue
            for word in other_words:
                if word in folded_text:
                    break
            else:
                break  # no word of this group: this branch cannot match
        else:
            if _in_order(ordered, present, folded_text):
                return True
    return False


def _in_order(ordered: tuple[tuple[tuple[str, int], ...], ...], present: int, folded_text: str) -> bool:
    """Whether the text holds a word of each group, each after the one before. A word with a bit (a scanned
    word) is only searched for when `present` has that bit: the text does not hold it otherwise."""
    position = 0
    for group in ordered:
        earliest_end = -1
        for word, bit in group:
            if bit and not present & bit:
                continue
            found = folded_text.find(word, position)
            if found != -1 and (earliest_end == -1 or found + len(word) < earliest_end):
                earliest_end = found + len(word)
        if earliest_end == -1:
            return False
        position = earliest_end
    return True


def _branches(requirement: Requirement) -> tuple[Requirement, ...]:
    return requirement.alternatives or (requirement,)


def _scanned(word: str) -> bool:
    return len(word) >= 4 or not any(char.isalnum() for char in word)


def required_words(pattern: str, macro_words: dict[str, frozenset[str]] | None = None) -> Requirement:
    """The requirement for one regex source. `macro_words` gives, for a macro such as {vendor}, words one of
    which its expansion always contains; other macros count as unknown text."""
    if "(?x" in pattern or "(?-" in pattern.replace("(?-i:", ""):
        return NOTHING  # verbose mode or unusual flags: do not guess
    try:
        parser = _Parser(pattern, macro_words or {})
        branches = parser.branches()
    except (IndexError, ValueError):
        return NOTHING
    if parser.position != len(pattern) or not all(branches):
        return NOTHING  # a branch that needs nothing lets everything through
    if len(branches) > 1:
        # Each branch is judged on its own words and order, which rejects far more than one pooled group.
        return Requirement(alternatives=tuple(_requirement(groups) for groups in branches))
    return _requirement(branches[0])


def _requirement(groups: list[frozenset[str]]) -> Requirement:
    ordered = tuple(tuple(sorted(group)) for group in groups)
    ranked = sorted(set(ordered), key=lambda group: (-min(len(word) for word in group), group))
    return Requirement(ordered=ordered, selective=tuple(ranked[:_SELECTIVE_GROUPS]))


@dataclass
class _Quantifier:
    minimum: int
    end: int


class _Parser:
    """A recursive-descent reader of Python regex syntax that keeps only what a match must contain."""

    def __init__(self, pattern: str, macro_words: dict[str, frozenset[str]]) -> None:
        self.pattern = pattern
        self.macro_words = macro_words
        self.position = 0

    def branches(self) -> list[list[frozenset[str]]]:
        """The requirement of each branch of an alternation, read up to its closing bracket or the end."""
        branches = [self.sequence()]
        while self._peek() == "|":
            self.position += 1
            branches.append(self.sequence())
        return branches

    def alternation(self) -> list[frozenset[str]]:
        branches = self.branches()
        if len(branches) == 1:
            return branches[0]
        words: set[str] = set()
        for branch in branches:
            if not branch:
                return []  # one branch needs nothing, so the whole alternation needs nothing
            words |= _most_selective(branch)
        return [frozenset(words)]

    def sequence(self) -> list[frozenset[str]]:
        groups: list[frozenset[str]] = []
        run: list[str] = []

        def close_run() -> None:
            word = fold_case("".join(run))
            if word and (len(run) >= _MIN_WORD or not any(char.isalnum() or char in _COMMON_MARKS for char in run)):
                groups.append(frozenset({word}))  # (a lone combining dot folds to nothing, and requires nothing)
            run.clear()

        while self.position < len(self.pattern) and self._peek() not in "|)":
            char = self._peek()
            if char == "(":
                close_run()
                inner, counts = self._group()
                quantifier = self._quantifier()
                if counts and quantifier.minimum > 0:
                    groups.extend(inner)
            elif char == "[":
                close_run()
                self._skip_class()
                self._quantifier()
            elif char == "{" and self._macro_end() is not None:
                close_run()
                end = self._macro_end()
                words = self.macro_words.get(self.pattern[self.position + 1:end - 1])
                self.position = end
                if self._quantifier().minimum > 0 and words and all(fold_case(word) for word in words):
                    groups.append(frozenset(fold_case(word) for word in words))
            elif char == "\\":
                literal = self._escape()
                quantifier = self._quantifier()
                if literal is None:
                    close_run()
                else:
                    self._add_literal(literal, quantifier, run, close_run)
            elif char in ".^$":
                close_run()
                self.position += 1
                self._quantifier()
            elif char in "*+?{":
                raise ValueError("quantifier without an atom")
            else:
                stretch = _PLAIN.match(self.pattern, self.position).group()
                self.position += len(stretch)
                if len(stretch) > 1 and self._peek() not in _QUANTIFIER_STARTS:
                    run.extend(stretch)  # the common case: a run of plain letters
                    continue
                run.extend(stretch[:-1])
                quantifier = self._quantifier()
                self._add_literal(stretch[-1], quantifier, run, close_run)
        close_run()
        return groups

    @staticmethod
    def _add_literal(char: str, quantifier: _Quantifier, run: list[str], close_run) -> None:
        if quantifier.minimum == 0:
            close_run()
            return
        run.append(char)
        if quantifier.end != 0:  # repeated: what follows is not adjacent to a single copy
            close_run()

    def _group(self) -> tuple[list[frozenset[str]], bool]:
        """Read '( ... )'; return its requirement and whether that requirement holds for the match."""
        pattern, start = self.pattern, self.position
        counts = True
        if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), start):
            counts = False
            self.position = start + (4 if pattern[start + 2] == "<" else 3)
        elif pattern.startswith("(?P<", start):
            self.position = pattern.index(">", start) + 1
        elif pattern.startswith("(?:", start):
            self.position = start + 3
        elif pattern.startswith("(?", start):
            # scoped flags such as (?-i:...) or (?i:...): case-folded words stay a superset
            close = pattern.index(":", start)
            if not all(flag in "aiLmsux-" for flag in pattern[start + 2:close]):
                raise ValueError("unsupported group")
            self.position = close + 1
        else:
            self.position = start + 1
        inner = self.alternation()
        if self._peek() != ")":
            raise ValueError("unclosed group")
        self.position += 1
        return inner, counts

    def _quantifier(self) -> _Quantifier:
        """Read an optional quantifier; `end` is 0 when the atom occurs exactly once."""
        pattern, start = self.pattern, self.position
        char = pattern[start] if start < len(pattern) else ""
        if char == "?":
            minimum, self.position = 0, start + 1
        elif char == "*":
            minimum, self.position = 0, start + 1
        elif char == "+":
            minimum, self.position = 1, start + 1
        elif char == "{" and self._macro_end() is None:
            close = pattern.find("}", start)
            body = pattern[start + 1:close] if close != -1 else ""
            low, _, high = body.partition(",")
            if close == -1 or not (low.isdigit() or low == "") or not (high.isdigit() or high == ""):
                return _Quantifier(1, 0)  # a literal '{', which Python also accepts
            self.position = close + 1
            minimum = int(low or 0)
            if body == low and minimum == 1:
                return self._lazy_or_possessive(_Quantifier(1, 0))
        else:
            return _Quantifier(1, 0)
        return self._lazy_or_possessive(_Quantifier(minimum, 1))

    def _lazy_or_possessive(self, quantifier: _Quantifier) -> _Quantifier:
        if self._peek() in ("?", "+"):
            self.position += 1
        return quantifier

    def _escape(self) -> str | None:
        """Read a backslash escape; return the literal character it stands for, or None."""
        escaped = self.pattern[self.position + 1]
        self.position += 2
        if escaped.isalnum():
            return None  # classes, boundaries, \n, \t, back-references, \x..: not a plain literal
        return escaped

    def _skip_class(self) -> None:
        pattern, index = self.pattern, self.position + 1
        if pattern[index] == "^":
            index += 1
        if pattern[index] == "]":
            index += 1
        while pattern[index] != "]":
            index += 2 if pattern[index] == "\\" else 1
        self.position = index + 1

    def _macro_end(self) -> int | None:
        """Position after a rule macro such as {vendor}, or None when '{' starts something else."""
        pattern, start = self.pattern, self.position
        close = pattern.find("}", start)
        if close > start + 1 and pattern[start + 1:close].replace("_", "").isalpha():
            return close + 1
        return None

    def _peek(self) -> str:
        return self.pattern[self.position] if self.position < len(self.pattern) else ""


def _most_selective(groups: list[frozenset[str]]) -> frozenset[str]:
    return max(groups, key=lambda group: (min(len(word) for word in group), -len(group)))
