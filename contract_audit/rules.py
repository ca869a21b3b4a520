"""Load, validate and compile rule files. A rule is data: patterns, the wording that cancels them, examples."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from re import _constants as _sre_c, _parser as _sre_parser

from .clauses import BUYER_ROLE_WORDS, VENDOR_ROLE_WORDS
from .errors import RuleError
from .model import FAMILIES, SEVERITIES

RULE_KINDS = ("risk", "protection")
MIN_EXAMPLES = 3
_ID = re.compile(r"^[a-z0-9][a-z0-9\-]{2,80}$")
_REQUIRED = ("id", "family", "kind", "title", "severity", "rationale", "recommendation", "anchors", "patterns", "examples")
_OPTIONAL = ("fallback", "unless", "context", "references", "enabled", "token_patterns")


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: str
    score: float


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    kind: str
    title: str
    severity: str
    rationale: str
    recommendation: str
    anchors: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    unless: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    token_patterns: tuple = ()
    fallback: str = ""
    references: tuple[str, ...] = ()
    positive_examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    source: str = ""
    line: int = 0
    enabled: bool = True


@dataclass(frozen=True)
class FamilyInfo:
    """What the report says when a family's protection is absent from the whole contract."""

    id: str
    title: str
    severity: str
    message: str
    recommendation: str
    fallback: str = ""
    risk_title: str = ""
    risk_message: str = ""
    risk_severity: str = "medium"
    topic_words: tuple[str, ...] = ()  # words that show a clause is about this family's subject
    protection_words: tuple[str, ...] = ()  # one of them is needed for the classifier alone to read a protection
    protection_excludes: tuple[str, ...] = ()  # any of them stops the classifier alone from reading one


@dataclass(frozen=True)
class Policy:
    """User overrides: severities per rule, rules switched off, families switched off, thresholds."""

    severities: dict = field(default_factory=dict)
    disabled_rules: frozenset = frozenset()
    disabled_families: frozenset = frozenset()
    thresholds: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)


@dataclass
class RuleSet:
    rules: list[Rule]
    families: dict[str, FamilyInfo]

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise RuleError(f"no rule with id '{rule_id}' (see 'contract-audit rules list')")

    def active(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled]


# Macros keep rule regexes readable and consistent. {vendor} and {buyer} also take the party names a
# contract defines for itself (see clauses.find_parties).
_NEGATION = (
    r"(?:(?:shall|will|may|must|can|could|should|would|does|do|is|are)\s+not|cannot|can't|won't|shan't|"
    r"(?:shall|will|may)\s+(?:in\s+no\s+(?:event|case)|under\s+no\s+circumstances)|"
    r"is\s+(?:not\s+)?(?:prohibited|forbidden)\s+from|(?:no|neither)\b)"
)
MACROS = {
    "gap": r"(?:[^.;]|\.(?=\d)){0,140}?",  # a dot inside a number ("Clause 2.3", "1.5 MW") does not end the gap
    "near": r"(?:[^.;]|\.(?=\d)){0,50}?",
    "not": _NEGATION,
    "modal": r"(?:shall|will|may|must|can|is\s+entitled\s+to|has\s+the\s+right\s+to|reserves\s+the\s+right\s+to|is\s+authori[sz]ed\s+to)",
}


def _alternation(words) -> str:
    ordered = sorted({w.lower() for w in words}, key=lambda w: (-len(w), w))  # a stable order, longest first
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


# The names a contract gives its parties ("NovaStack", "the Municipality of Sarene") are replaced, before
# matching, by a run of one of these letters of the same length, so that offsets stay put and one compiled
# regex serves every contract. Runic letters count as word characters and never occur in contracts.
VENDOR_PLACEHOLDER = "ᚠ"
BUYER_PLACEHOLDER = "ᚢ"


def party_name_macro(role_words, placeholder: str) -> str:
    """A party's name or role word without an article: for a repeated group that already takes 'the' and
    'its' as words of their own, where {vendor} or {buyer} would match 'the City' in two ways."""
    return rf"(?:{_alternation(role_words)}|{placeholder}+)(?:'s|’s|s)?"


def party_macro(role_words, placeholder: str) -> str:
    return rf"(?:(?:the|each|any|a|its)\s+)?{party_name_macro(role_words, placeholder)}"


PARTY_MACROS = ("vendor", "buyer", "vendor_name", "buyer_name")


def expand_macros(regex: str) -> str:
    values = dict(MACROS)
    values["vendor"] = party_macro(VENDOR_ROLE_WORDS, VENDOR_PLACEHOLDER)
    values["buyer"] = party_macro(BUYER_ROLE_WORDS, BUYER_PLACEHOLDER)
    values["vendor_name"] = party_name_macro(VENDOR_ROLE_WORDS, VENDOR_PLACEHOLDER)
    values["buyer_name"] = party_name_macro(BUYER_ROLE_WORDS, BUYER_PLACEHOLDER)
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), regex)


def compile_regex(regex: str) -> re.Pattern:
    return re.compile(expand_macros(regex), re.IGNORECASE)


def macro_words() -> dict[str, frozenset[str]]:
    """For the prefilter: a word that every expansion of {vendor} / {buyer} contains one of."""
    def longest_words(role_words, placeholder):
        return frozenset({max(word.split(), key=len) for word in role_words} | {placeholder})

    vendor = longest_words(VENDOR_ROLE_WORDS, VENDOR_PLACEHOLDER)
    buyer = longest_words(BUYER_ROLE_WORDS, BUYER_PLACEHOLDER)
    return {"vendor": vendor, "buyer": buyer, "vendor_name": vendor, "buyer_name": buyer}


def own_party_names(names) -> list[str]:
    """A contract's own names for a party ('NovaStack'), without the role words every contract uses."""
    role_words = {word.lower() for word in (*VENDOR_ROLE_WORDS, *BUYER_ROLE_WORDS)}
    return [name for name in names if name.strip() and name.lower() not in role_words]


def party_name_pattern(names) -> re.Pattern | None:
    """Whole-word, case-insensitive matches of a contract's own party names (role words excluded)."""
    own = own_party_names(names)
    if not own:
        return None
    return re.compile(rf"(?<!\w)(?:{_alternation(own)})(?!\w)", re.IGNORECASE)


# ---------------------------------------------------------------- backtracking safety (docs/rule_safety.md)
#
# Python's `re` backtracks: a pattern in which a repeated part can match the same text in more than one way
# ('(a+)+', '(?:\s*(?:and|or)\s*\w+)*') takes time exponential in the length of a text it fails on. Such a
# pattern is refused when its rule is loaded. The check builds the pattern's position automaton (one state
# per character-matching leaf of the parse tree), counting the ways each transition can be taken, and looks
# for a state with two different paths back to itself over the same text: that is exactly what makes a
# backtracking matcher's work grow exponentially. Assertions (\b, lookarounds) are read as always true, which
# can only add paths, so a pattern that passes is safe whatever they decide.

_SMALL_REPEAT = 8  # repeats bounded this low are unrolled (their work is polynomial); longer ones are loops
_PROBE_CHARACTERS = "az09_ \t\n.,;:-/'’“”()!?&\x00\u00a0éᚠᚢ"
_CATEGORY_TESTS = {
    "DIGIT": str.isdecimal,
    "SPACE": str.isspace,
    "WORD": lambda c: c.isalnum() or c == "_",
    "LINEBREAK": lambda c: c == "\n",
}


class UnsafeRegex(ValueError):
    """A regex the matcher could spend exponential time on, or one using a construct the check cannot read."""


def check_backtracking(regex: str) -> None:
    """Raise UnsafeRegex when `regex` (macros expanded) can backtrack exponentially."""
    try:
        tree = _sre_parser.parse(regex, re.IGNORECASE)
    except re.error:
        return  # compiling reports a bad regex with its own message
    alphabet = "".join(sorted(set(_PROBE_CHARACTERS) | set(regex.lower())))
    automaton = _PositionAutomaton(alphabet)
    automaton.sequence(tree)
    for start, end in automaton.outermost_loops():
        if automaton.ambiguous(start, end):
            raise UnsafeRegex("can take exponential time (a repeated part matches the same text in more than one way)")


_ONE_WAY, _TWO_WAYS = 1, 2  # path counts saturate at two: one way is safe, two or more are not


def _add_ways(ways: dict, key, count: int) -> None:
    ways[key] = min(_TWO_WAYS, ways.get(key, 0) + count)


class _PositionAutomaton:
    """The Glushkov automaton of a parsed regex, with the number of ways (1 or 2+) of each transition."""

    def __init__(self, alphabet: str) -> None:
        self.alphabet = alphabet
        self.leaves: list[tuple] = []  # per position, its parse-tree node
        self.follow: list[dict[int, int]] = []  # per position, the positions that may come next, with ways
        self.loops: list[tuple[int, int]] = []  # the position range of each unbounded repeat's body
        self.loop_depth = 0  # transitions outside every loop cannot be on a cycle: they are not recorded
        self._masks: dict[tuple, int] = {}

    # A fragment is (first, last, empty): the positions that can begin and end a match of it, each with its
    # number of ways, and the number of ways it matches the empty string.
    EMPTY = ({}, {}, _ONE_WAY)

    def sequence(self, items) -> tuple:
        fragment = self.EMPTY
        for op, av in items:
            fragment = self.concatenate(fragment, self.node(op, av))
        return fragment

    def concatenate(self, left, right) -> tuple:
        first_left, last_left, empty_left = left
        first_right, last_right, empty_right = right
        for position, ways in last_left.items() if self.loop_depth else ():
            for following, more in first_right.items():
                _add_ways(self.follow[position], following, ways * more)
        first, last = dict(first_left), dict(last_right)
        if empty_left:
            for position, ways in first_right.items():
                _add_ways(first, position, ways * empty_left)
        if empty_right:
            for position, ways in last_left.items():
                _add_ways(last, position, ways * empty_right)
        return first, last, min(_TWO_WAYS, empty_left * empty_right)

    @staticmethod
    def either(left, right) -> tuple:
        first, last = dict(left[0]), dict(left[1])
        for position, ways in right[0].items():
            _add_ways(first, position, ways)
        for position, ways in right[1].items():
            _add_ways(last, position, ways)
        return first, last, min(_TWO_WAYS, left[2] + right[2])

    def node(self, op, av) -> tuple:
        if op in (_sre_c.LITERAL, _sre_c.NOT_LITERAL, _sre_c.ANY, _sre_c.IN):
            position = len(self.leaves)
            self.leaves.append((op, av))
            self.follow.append({})
            return {position: _ONE_WAY}, {position: _ONE_WAY}, 0
        if op is _sre_c.AT:
            return self.EMPTY
        if op in (_sre_c.ASSERT, _sre_c.ASSERT_NOT):
            self.sequence(av[1])  # its own loops are checked too; it consumes nothing here
            return self.EMPTY
        if op is _sre_c.SUBPATTERN:
            return self.sequence(av[-1])
        if op is _sre_c.ATOMIC_GROUP:
            return self.sequence(av)
        if op is _sre_c.BRANCH:
            fragment = None
            for branch in av[1]:
                part = self.sequence(branch)
                fragment = part if fragment is None else self.either(fragment, part)
            return fragment
        if op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, _sre_c.POSSESSIVE_REPEAT):
            return self.repeat(*av)
        raise UnsafeRegex(f"the safety check does not accept {str(op).lower()} (backreferences, conditionals)")

    def repeat(self, low: int, high: int, body) -> tuple:
        if high <= _SMALL_REPEAT:
            # Unrolled as body{low} (body (body (...)?)?)?: one way for each number of repetitions, as re counts.
            optional = self.EMPTY
            for _ in range(high - low):
                optional = self.either(self.concatenate(self.sequence(body), optional), self.EMPTY)
            fragment = self.EMPTY
            for _ in range(low):
                fragment = self.concatenate(fragment, self.sequence(body))
            return self.concatenate(fragment, optional)
        prefix = self.EMPTY
        for _ in range(min(low - 1, _SMALL_REPEAT)):  # body{1000,} costs no more to check than body{9,}
            prefix = self.concatenate(prefix, self.sequence(body))
        start = len(self.leaves)
        self.loop_depth += 1
        first, last, empty = self.sequence(body)
        self.loop_depth -= 1
        self.loops.append((start, len(self.leaves)))
        for position, ways in last.items():  # the way back to the start of the next repetition
            for following, more in first.items():
                _add_ways(self.follow[position], following, ways * more)
        looped = (first, last, _ONE_WAY if low == 0 else empty)
        return self.concatenate(prefix, looped)

    def mask(self, position: int) -> int:
        op, av = self.leaves[position]
        key = (op, repr(av))  # the same class (\s, \w, a letter) recurs many times in one pattern
        if key not in self._masks:
            self._masks[key] = sum(1 << i for i, c in enumerate(self.alphabet) if _matches_character(op, av, c))
        return self._masks[key]

    def outermost_loops(self) -> list[tuple[int, int]]:
        outermost = []
        for start, end in sorted(self.loops, key=lambda loop: (loop[0], -loop[1])):
            if not outermost or start >= outermost[-1][1]:
                outermost.append((start, end))
        return outermost

    def ambiguous(self, start: int, end: int) -> bool:
        """True when some position in [start, end) has two paths back to itself over the same text: in the
        product of the automaton with itself, a strongly connected component holding a pair (p, p) also
        holds a pair (p, q) with p != q, or a transition between pairs (p, p) that can be taken two ways."""
        inside = {p: {q: ways for q, ways in self.follow[p].items() if start <= q < end}
                  for p in range(start, end)}
        masks = {p: self.mask(p) for p in range(start, end)}

        def successors(pair):
            p, q = pair
            for p2, ways_p in inside[p].items():
                for q2, ways_q in inside[q].items():
                    if masks[p2] & masks[q2]:
                        yield (p2, q2), ways_p * ways_q

        for component in _strongly_connected([(p, p) for p in range(start, end)], successors):
            if not any(p == q for p, q in component):
                continue
            if any(p != q for p, q in component):
                return True
            members = set(component)
            if any(ways > 1 and pair in members for node in component for pair, ways in successors(node)):
                return True
        return False


def _matches_character(op, av, character: str) -> bool:
    return any(_matches_exactly(op, av, c) for c in {character, character.upper(), character.lower()})


def _matches_exactly(op, av, character: str) -> bool:
    code = ord(character)
    if op is _sre_c.LITERAL:
        return code == av
    if op is _sre_c.NOT_LITERAL:
        return code != av
    if op is _sre_c.ANY:
        return True  # also the newline: assuming more matches is the safe side
    negated = bool(av) and av[0][0] is _sre_c.NEGATE
    for item_op, item in av:
        if item_op is _sre_c.LITERAL and code == item:
            return not negated
        if item_op is _sre_c.RANGE and item[0] <= code <= item[1]:
            return not negated
        if item_op is _sre_c.CATEGORY:
            name = str(item).replace("CATEGORY_", "").replace("UNI_", "").replace("LOC_", "")
            test = _CATEGORY_TESTS[name.replace("NOT_", "")]
            if test(character) != name.startswith("NOT_"):
                return not negated
    return negated


def _strongly_connected(roots, successors):
    """Tarjan's algorithm, iterative, over the nodes reachable from `roots`; yields each component's nodes."""
    index, low, on_stack, stack, counter = {}, {}, set(), [], 0
    for root in roots:
        if root in index:
            continue
        work = [(root, iter(successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for child, _ in edges:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield component


# ---------------------------------------------------------------- loading and validation


def reflow(text: str) -> str:
    """Join YAML-wrapped lines into paragraphs; a blank line separates paragraphs."""
    paragraphs = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


# libyaml's loader when PyYAML was built with it (about ten times faster on the rule library).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _node_line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 0


def _mapping_nodes(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {key.value: (key, value) for key, value in node.value}


def load_rule_file(path: Path, compile_patterns: bool = True) -> tuple[list[Rule], list[FamilyInfo]]:
    """Parse one YAML file holding `rules:` and/or `families:`; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot be read ({exc})") from None
    try:
        root, data = _compose(text, path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(f"{path}{line}: invalid YAML: {problem}") from None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise RuleError(f"{path}:1: expected a mapping with a 'rules:' list")
    unknown = set(data) - {"rules", "families"}
    if unknown:
        key_node = _mapping_nodes(root)[sorted(unknown)[0]][0]
        raise RuleError(f"{path}:{_node_line(key_node)}: unknown top-level key '{sorted(unknown)[0]}' (expected 'rules' or 'families')")
    nodes = _mapping_nodes(root)
    rules = [
        _parse_rule(item, node, path, compile_patterns)
        for item, node in zip(data.get("rules") or [], nodes["rules"][1].value if "rules" in nodes else [])
    ]
    families = [
        _parse_family(item, node, path)
        for item, node in zip(data.get("families") or [], nodes["families"][1].value if "families" in nodes else [])
    ]
    return rules, families


def _compose(text: str, path: Path) -> tuple[yaml.Node | None, object]:
    """The document's root node (nodes keep line numbers for error messages) and its data."""
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        _refuse_alias_bombs(root, path)
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


# Far more values than any rule file holds, even with its aliases written out.
MAX_YAML_VALUES = 200_000


def _refuse_alias_bombs(root: yaml.Node | None, path: Path) -> None:
    """Aliases (*name) let a few lines stand for billions of values (a 'billion laughs' file). Count the values
    of the document as if every alias were written out, each node once (an alias is the same node met again),
    and refuse the file past MAX_YAML_VALUES, or when an alias refers to a value that contains it."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)] if root is not None else []
    while stack:
        node, children_done = stack.pop()
        children = ([part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_YAML_VALUES:
                raise _fail(path, node, f"YAML aliases expand this document to more than {MAX_YAML_VALUES:,} "
                                        "values; write the values out")
        elif id(node) in open_nodes:
            raise _fail(path, node, "a YAML alias refers to a value that contains it")
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)


def _fail(path: Path, node: yaml.Node | None, message: str) -> RuleError:
    return RuleError(f"{path}:{_node_line(node)}: {message}")


def _parse_rule(item, node: yaml.Node, path: Path, compile_patterns: bool = True) -> Rule:
    if not isinstance(item, dict) or not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, "each rule must be a mapping")
    fields = _mapping_nodes(node)
    rule_name = item.get("id", "?")

    def where(key: str) -> yaml.Node:
        return fields[key][1] if key in fields else node

    for key in _REQUIRED:
        if key not in item:
            raise _fail(path, node, f"rule '{rule_name}': missing required field '{key}'")
    for key in item:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise _fail(path, fields[key][0], f"rule '{rule_name}': unknown field '{key}'")
    if not isinstance(item["id"], str) or not _ID.match(item["id"]):
        raise _fail(path, where("id"), f"rule id '{item['id']}' must be lower-case letters, digits and dashes")
    if item["family"] not in FAMILIES:
        raise _fail(path, where("family"), f"rule '{rule_name}': family '{item['family']}' is not one of {', '.join(FAMILIES)}")
    if item["kind"] not in RULE_KINDS:
        raise _fail(path, where("kind"), f"rule '{rule_name}': kind must be 'risk' or 'protection'")
    if item["severity"] not in SEVERITIES:
        raise _fail(path, where("severity"), f"rule '{rule_name}': severity must be one of {', '.join(SEVERITIES)}")
    for key in ("title", "rationale", "recommendation"):
        if not isinstance(item[key], str) or not item[key].strip():
            raise _fail(path, where(key), f"rule '{rule_name}': '{key}' must be non-empty text")
    anchors = _string_list(item["anchors"], path, where("anchors"), rule_name, "anchors")
    patterns = _parse_patterns(item["patterns"], path, where("patterns"), rule_name, compile_patterns)
    unless = _string_list(item.get("unless") or [], path, where("unless"), rule_name, "unless", allow_empty=True)
    for regex in unless:
        _check_regex(regex, path, where("unless"), rule_name, compile_patterns, "unless pattern")
    context = _string_list(item.get("context") or [], path, where("context"), rule_name, "context", allow_empty=True)
    token_patterns = item.get("token_patterns") or []
    if not isinstance(token_patterns, list) or not all(isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in token_patterns):
        raise _fail(path, where("token_patterns"), f"rule '{rule_name}': token_patterns must be a list of spaCy token pattern lists")
    examples = item["examples"]
    if not isinstance(examples, dict) or set(examples) - {"positive", "negative"}:
        raise _fail(path, where("examples"), f"rule '{rule_name}': examples must have 'positive' and 'negative' lists")
    positive = _string_list(examples.get("positive") or [], path, where("examples"), rule_name, "examples.positive", allow_empty=True)
    negative = _string_list(examples.get("negative") or [], path, where("examples"), rule_name, "examples.negative", allow_empty=True)
    if len(positive) < MIN_EXAMPLES or len(negative) < MIN_EXAMPLES:
        raise _fail(path, where("examples"), f"rule '{rule_name}': needs at least {MIN_EXAMPLES} positive and {MIN_EXAMPLES} negative examples")
    return Rule(
        id=item["id"], family=item["family"], kind=item["kind"], title=item["title"].strip(),
        severity=item["severity"], rationale=" ".join(item["rationale"].split()),
        recommendation=reflow(item["recommendation"]), anchors=tuple(a.lower() for a in anchors),
        patterns=patterns, unless=tuple(unless), context=tuple(c.lower() for c in context),
        token_patterns=tuple(token_patterns),
        fallback=" ".join(str(item.get("fallback") or "").split()),
        references=tuple(str(r) for r in item.get("references") or []),
        positive_examples=tuple(positive), negative_examples=tuple(negative),
        source=str(path), line=_node_line(node), enabled=bool(item.get("enabled", True)),
    )


def _string_list(value, path, node, rule_name, key, allow_empty=False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, node, f"rule '{rule_name}': '{key}' must be a list of non-empty strings")
    if not value and not allow_empty:
        raise _fail(path, node, f"rule '{rule_name}': '{key}' must not be empty")
    return value


def _parse_patterns(value, path, node, rule_name, compile_patterns: bool = True) -> tuple[Pattern, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(path, node, f"rule '{rule_name}': 'patterns' must be a non-empty list")
    patterns = []
    for index, entry in enumerate(value):
        entry_node = node.value[index] if isinstance(node, yaml.SequenceNode) else node
        if isinstance(entry, str):
            entry = {"regex": entry}
        if not isinstance(entry, dict) or "regex" not in entry:
            raise _fail(path, entry_node, f"rule '{rule_name}': each pattern needs a 'regex'")
        score = entry.get("score", 0.8)
        if not isinstance(score, (int, float)) or not 0 < score <= 1:
            raise _fail(path, entry_node, f"rule '{rule_name}': pattern score must be a number in (0, 1]")
        name = str(entry.get("name", f"p{index + 1}"))
        _check_regex(entry["regex"], path, entry_node, rule_name, compile_patterns, f"pattern '{name}'")
        patterns.append(Pattern(name=name, regex=entry["regex"], score=float(score)))
    return tuple(patterns)


def _check_regex(regex, path, node, rule_name, compile_patterns: bool = True, label: str = "pattern") -> None:
    if not isinstance(regex, str):
        raise _fail(path, node, f"rule '{rule_name}': a regex must be a string")
    unknown = set(re.findall(r"\{([a-z_]+)\}", regex)) - set(MACROS) - set(PARTY_MACROS)
    if unknown:
        raise _fail(path, node, f"rule '{rule_name}': unknown macro {{{sorted(unknown)[0]}}} (known: {', '.join(PARTY_MACROS + tuple(MACROS))})")
    if not compile_patterns:
        return
    # Placeholders keep validation cheap; the full macros are compiled once, when the rule first runs.
    placeholder = re.sub(r"\{(\w+)\}", lambda m: MACROS.get(m.group(1), "(?:party)"), regex)
    try:
        re.compile(placeholder)
    except re.error as exc:
        raise _fail(path, node, f"rule '{rule_name}': bad regex ({exc}): {regex}") from None
    try:
        check_backtracking(expand_macros(regex))
    except UnsafeRegex as exc:
        raise _fail(path, node, f"rule '{rule_name}': {label} {exc}: {regex}") from None


def _parse_family(item, node, path: Path) -> FamilyInfo:
    if not isinstance(item, dict):
        raise _fail(path, node, "each family entry must be a mapping")
    for key in ("id", "title", "severity", "message", "recommendation"):
        if key not in item:
            raise _fail(path, node, f"family entry: missing required field '{key}'")
    if item["id"] not in FAMILIES:
        raise _fail(path, node, f"family '{item['id']}' is not one of {', '.join(FAMILIES)}")
    if item["severity"] not in SEVERITIES:
        raise _fail(path, node, f"family '{item['id']}': severity must be one of {', '.join(SEVERITIES)}")
    return FamilyInfo(
        id=item["id"], title=item["title"], severity=item["severity"], message=" ".join(item["message"].split()),
        recommendation=reflow(item["recommendation"]), fallback=" ".join(str(item.get("fallback") or "").split()),
        risk_title=str(item.get("risk_title") or f"{item['id']} risk"),
        risk_message=" ".join(str(item.get("risk_message") or "").split()),
        risk_severity=item.get("risk_severity", item["severity"]),
        topic_words=tuple(str(word).lower() for word in item.get("topic_words") or []),
        protection_words=tuple(str(word).lower() for word in item.get("protection_words") or []),
        protection_excludes=tuple(str(word).lower() for word in item.get("protection_excludes") or []),
    )


def shipped_rules_dir() -> Path:
    """The rule library shipped with the package (installed) or beside it (source checkout)."""
    from .resources import shipped_dir

    return shipped_dir("rules", "contract_audit.shipped_rules")


def rule_files(directory: Path) -> list[Path]:
    """The rule files of a rule folder, in load order."""
    if not directory.is_dir():
        raise RuleError(f"{directory}: rule folder not found")
    return sorted(list(directory.glob("*.yaml")) + list(directory.glob("*.yml")))


def load_rules(extra_dirs=(), include_shipped: bool = True, policy: Policy | None = None,
               trust_shipped: bool = False) -> RuleSet:
    """Load the shipped library and extra rule folders. With `trust_shipped` the shipped regexes are not
    compiled up front (the test suite and `rules validate` check them; matching compiles what it needs)."""
    dirs = ([shipped_rules_dir()] if include_shipped else []) + [Path(d) for d in extra_dirs]
    rules: list[Rule] = []
    families: dict[str, FamilyInfo] = {}
    seen: dict[str, str] = {}
    for directory in dirs:
        files = rule_files(directory)
        if not files:
            raise RuleError(f"{directory}: no rule files (*.yaml) in this folder")
        for path in files:
            file_rules, file_families = load_rule_file(path, not (trust_shipped and directory == dirs[0] and include_shipped))
            for rule in file_rules:
                if rule.id in seen:
                    raise RuleError(f"{path}:{rule.line}: duplicate rule id '{rule.id}' (first defined in {seen[rule.id]})")
                seen[rule.id] = f"{path}:{rule.line}"
                rules.append(rule)
            for family in file_families:
                families[family.id] = family
    missing = [f for f in FAMILIES if f not in families]
    if include_shipped and missing:
        raise RuleError(f"{dirs[0]}: no 'families' entry for {', '.join(missing)}")
    ruleset = RuleSet(rules=rules, families=families)
    return apply_policy(ruleset, policy) if policy else ruleset


def apply_policy(ruleset: RuleSet, policy: Policy) -> RuleSet:
    known = {rule.id for rule in ruleset.rules}
    for rule_id in list(policy.severities) + list(policy.disabled_rules):
        if rule_id not in known:
            raise RuleError(f"policy names an unknown rule '{rule_id}'")
    rules = []
    for rule in ruleset.rules:
        enabled = rule.enabled and rule.id not in policy.disabled_rules and rule.family not in policy.disabled_families
        rules.append(replace(rule, severity=policy.severities.get(rule.id, rule.severity), enabled=enabled))
    return RuleSet(rules=rules, families=ruleset.families)


def load_policy(path: str | Path) -> Policy:
    """A policy file: `severity: {rule-id: level}`, `disable: [rule-id]`, `disable_families: [family]`,
    `thresholds: {family: 0..1}`, `weights: {critical: n, ...}`."""
    path = Path(path)
    try:
        data = _compose(path.read_text(encoding="utf-8"), path)[1] or {}
    except OSError as exc:
        raise RuleError(f"{path}: cannot read policy file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(f"{path}{':' + str(mark.line + 1) if mark else ''}: invalid YAML in policy file") from None
    if not isinstance(data, dict):
        raise RuleError(f"{path}:1: a policy file must be a mapping")
    allowed = {"severity", "disable", "disable_families", "thresholds", "weights"}
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise RuleError(f"{path}: unknown policy key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
    for key in ("severity", "thresholds", "weights"):
        if not _string_keyed_scalars(data.get(key) or {}):
            raise RuleError(f"{path}: '{key}' must map names to single values, e.g. {_POLICY_EXAMPLES[key]}")
    severities = data.get("severity") or {}
    if any(v not in SEVERITIES for v in severities.values()):
        raise RuleError(f"{path}: 'severity' maps rule ids to one of {', '.join(SEVERITIES)}")
    for key in ("disable", "disable_families"):
        if not isinstance(data.get(key) or [], list) or not all(isinstance(v, str) for v in data.get(key) or []):
            raise RuleError(f"{path}: '{key}' must be a list, e.g. {key}: [{'rule-id' if key == 'disable' else 'family'}]")
    families = set(data.get("disable_families") or [])
    if families - set(FAMILIES):
        raise RuleError(f"{path}: unknown family '{sorted(families - set(FAMILIES))[0]}' in disable_families")
    thresholds = data.get("thresholds") or {}
    if any(k not in FAMILIES or not _number(v) or not 0 <= v <= 1 for k, v in thresholds.items()):
        raise RuleError(f"{path}: 'thresholds' maps family ids to numbers between 0 and 1")
    weights = data.get("weights") or {}
    if any(k not in SEVERITIES or not _number(v) or not 0 <= v < float("inf") for k, v in weights.items()):
        raise RuleError(f"{path}: 'weights' maps severities to non-negative numbers")
    return Policy(
        severities=dict(severities), disabled_rules=frozenset(data.get("disable") or []),
        disabled_families=frozenset(families), thresholds=dict(thresholds), weights=dict(weights),
    )


_POLICY_EXAMPLES = {"severity": "severity: {rule-id: high}", "thresholds": "thresholds: {exit: 0.4}",
                    "weights": "weights: {critical: 40}"}


def _string_keyed_scalars(value) -> bool:
    """A mapping of names to plain values: no nested mappings or lists, where a policy expects one value."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, (str, int, float))) for k, v in value.items()
    )


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
