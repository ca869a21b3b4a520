#!/usr/bin/env python3
"""Build models/data/corpus.jsonl, the training corpus of the clause classifier.

    python models/data/build_corpus.py            # writes models/data/corpus.jsonl and prints counts
    python models/data/build_corpus.py --check    # also lists near-duplicate pairs that were kept

Five sources, in this order (earlier sources win when a later line duplicates an earlier one):

1. written/*.yaml   clauses written by hand, one per line, "[style +r:fam +p:fam] text";
2. ../../rules      the replacement language of every risk rule and family (protective wording by design, so
                    the classifier learns not to read the tool's own recommendations as risks);
3. templates.yaml   hand-written sentence templates expanded with slot fillers (fixed seed);
4. realworld_dev    real clauses labelled independently of this project (../shared/eval/realworld_dev:
                    US federal acquisition clauses and ordinances, public domain; Common Paper standard
                    agreements and CUAD excerpts, CC BY 4.0), each with its source document in `doc`;
5. CUAD v1          real clause excerpts from ../shared/data/cuad/master_clauses.csv (CC BY 4.0, The Atticus
                    Project): ordinary clauses from unrelated categories as negatives, and the excerpts of
                    related categories that were read and labelled by hand in cuad_labels.yaml.

The output is deterministic: the same inputs give the same bytes on every run.
"""
from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import random
import re
import sys
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CUAD = REPO.parent / "shared" / "data" / "cuad" / "master_clauses.csv"
DEFAULT_REALWORLD = REPO.parent / "shared" / "eval" / "realworld_dev" / "clauses.jsonl"
OUT = HERE / "corpus.jsonl"
SEED = 20240607

FAMILIES = ("monitoring", "energy", "surveillance", "exit", "remote-access", "key-custody", "data-residency", "updates")
STYLES = {
    "uk", "us", "fidic", "saas", "africa", "gulf", "asia", "party-ab", "latam", "rfp", "nested", "passive",
    "terse", "schedule", "definition", "cuad", "recommendation", "real",
}


def load_realworld(path: Path) -> list[dict]:
    """Real clauses with their labels and source documents; the evaluation groups by `doc`, so that a model
    is never judged on a document it learnt from."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        records.append({
            "id": f"r-{item['id']}", "text": item["text"],
            "risk": [f for f in FAMILIES if f in item["risk"]], "protects": [f for f in FAMILIES if f in item["protects"]],
            "source": f"realworld:{item['source']}", "style": "real", "doc": item["doc"], "licence": item["licence"],
        })
    return records

# --------------------------------------------------------------------------------------------------- written

_LINE = re.compile(r"^\[(?P<style>[a-z-]+)(?P<extra>(?:\s+\+[rp]:[a-z,-]+)*)\]\s+(?P<text>\S.*)$")


def _families(value: str, where: str) -> list[str]:
    out = [f for f in value.split(",") if f]
    for family in out:
        if family not in FAMILIES:
            sys.exit(f"{where}: unknown family '{family}'")
    return out


def _labels(base: list[str], extra: list[str]) -> list[str]:
    merged = set(base) | set(extra)
    return [f for f in FAMILIES if f in merged]


def load_written(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        counter = 0
        for group in data["groups"]:
            base_risk = _families(",".join(group.get("risk") or []), f"{path.name}: group {group.get('name')}")
            base_protects = _families(",".join(group.get("protects") or []), f"{path.name}: group {group.get('name')}")
            for number, raw in enumerate(group["clauses"].splitlines(), 1):
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                match = _LINE.match(line)
                where = f"{path.name}: group '{group.get('name')}' line {number}"
                if not match:
                    sys.exit(f"{where}: not a '[style] text' line: {line[:60]}")
                style = match["style"]
                if style not in STYLES:
                    sys.exit(f"{where}: unknown style '{style}'")
                extra_r, extra_p = [], []
                for token in match["extra"].split():
                    kind, value = token[1], token[3:]
                    (extra_r if kind == "r" else extra_p).extend(_families(value, where))
                counter += 1
                records.append({
                    "id": f"w-{path.stem}-{counter:04d}",
                    "text": match["text"].strip(),
                    "risk": _labels(base_risk, extra_r),
                    "protects": _labels(base_protects, extra_p),
                    "source": f"written:{path.name}",
                    "style": style,
                })
    return records


def load_recommendations(rules_dir: Path) -> list[dict]:
    """The recommended replacement text of each risk rule and of each family, labelled as protecting it."""
    records = []
    for path in sorted(rules_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = [(rule["id"], rule["family"], rule["recommendation"]) for rule in data.get("rules") or []
                 if rule["kind"] == "risk"]
        items += [(f"{family['id']}-missing", family["id"], family["recommendation"]) for family in data.get("families") or []]
        for name, family, text in items:
            records.append({
                "id": f"rec-{name}",
                "text": " ".join(text.split()),
                "risk": [],
                "protects": [family],
                "source": f"recommendation:{path.name}",
                "style": "recommendation",
            })
    return records


# ------------------------------------------------------------------------------------------------- templates

_SLOT = re.compile(r"\{([a-z_0-9]+)\}")


def _stable_seed(name: str) -> int:
    return SEED ^ zlib.crc32(name.encode("utf-8"))


def _fill(pattern: str, slots: dict, rng: random.Random) -> str:
    chosen: dict[str, str] = {}

    def pick(match: re.Match) -> str:
        key = match.group(1)
        if key not in chosen:
            values = slots.get(key)
            if not values:
                raise KeyError(key)
            chosen[key] = rng.choice(values)
        return chosen[key]

    text = pattern
    for _ in range(3):  # fillers may themselves contain slots
        text = _SLOT.sub(pick, text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\.\.$", ".", text)
    return text[0].upper() + text[1:]


def load_templates(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    shared = data.get("slots") or {}
    records = []
    for template in data["templates"]:
        name = template["name"]
        slots = dict(shared)
        slots.update(template.get("slots") or {})
        risk = _labels(_families(",".join(template.get("risk") or []), name), [])
        protects = _labels(_families(",".join(template.get("protects") or []), name), [])
        style = template.get("style", "template")
        if style not in STYLES:
            sys.exit(f"{path.name}: template {name}: unknown style '{style}'")
        rng = random.Random(_stable_seed(name))
        patterns = template["patterns"]
        wanted = int(template.get("count", 6))
        seen: set[str] = set()
        attempts = 0
        while len(seen) < wanted and attempts < wanted * 40:
            attempts += 1
            pattern = patterns[(attempts - 1) % len(patterns)]
            try:
                text = _fill(pattern, slots, rng)
            except KeyError as exc:
                sys.exit(f"{path.name}: template {name}: no slot {exc}")
            if text in seen:
                continue
            seen.add(text)
            records.append({
                "id": f"t-{name}-{len(seen):02d}",
                "text": text,
                "risk": risk,
                "protects": protects,
                "source": f"template:{name}",
                "style": style,
            })
    return records


# ------------------------------------------------------------------------------------------------------ CUAD

# Categories whose excerpts are ordinary clauses for our purpose (no family), used as negatives after the
# excerpt is checked against the family vocabulary below.
CUAD_NEGATIVE_CATEGORIES = (
    "Governing Law", "Most Favored Nation", "Competitive Restriction Exception", "Non-Compete",
    "No-Solicit of Customers", "No-Solicit of Employees", "Non-Disparagement",
    "Anti-Assignment", "Revenue/Profit Sharing", "Price Restrictions", "Volume Restriction", "License Grant",
    "Non-Transferable License", "Affiliate License-Licensor", "Affiliate License-Licensee",
    "Unlimited/All-You-Can-Eat-License", "Uncapped Liability",
    "Cap on Liability", "Liquidated Damages", "Warranty Duration", "Insurance", "Covenant Not to Sue",
    "Third Party Beneficiary", "Expiration Date", "Change of Control",
)
# An excerpt from those categories is left out when it touches a family, so that no negative is mislabelled
# (e.g. a License Grant giving the vendor a perpetual licence to customer data, or a Change of Control clause
# giving a termination right).
CUAD_FAMILY_VOCABULARY = re.compile(
    r"terminat|cancel|renew|exclusiv|audit|inspect|\brecords\b|\bbooks\b|\bdata\b|database|escrow|source code|"
    r"updat|upgrad|new version|releases?\b|remote|monitor|encrypt|\bkeys?\b|energy|electric|power|cooling|"
    r"camera|video|surveil|transition|\bexport|\bhost|cloud|server|software|telemetry|intercept|"
    r"government|foreign|abroad|outside the united states|facial|biometric|"
    r"shortfall|take.or.pay|guaranteed minimum|minimum (?:annual )?(?:purchase|commitment|spend|volume)",
    re.IGNORECASE,
)
MIN_CHARS, MAX_CHARS, SPLIT_TARGET = 60, 900, 600
CUAD_NEGATIVES_PER_CATEGORY = 30
CUAD_NEGATIVES_PER_CONTRACT = 3


def _excerpts(cell: str) -> list[str]:
    cell = (cell or "").strip()
    if not cell or cell == "[]":
        return []
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        return [cell]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


_SENTENCE_END = re.compile(r"(?<=[a-z0-9\)\]][.;])\s+(?=(?:\(?[a-z0-9]{1,3}\)\s+)?[A-Z\"(])")


def clean_excerpt(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\t", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text


def split_excerpt(text: str) -> list[str]:
    """Pieces of a clause excerpt no longer than MAX_CHARS, cut at sentence boundaries; pieces that
    cannot be cut are dropped."""
    if len(text) <= MAX_CHARS:
        return [text]
    sentences = _SENTENCE_END.split(text)
    pieces, current = [], ""
    for sentence in sentences:
        if current and len(current) + 1 + len(sentence) > SPLIT_TARGET:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return [p for p in pieces if MIN_CHARS <= len(p) <= MAX_CHARS]


def excerpt_pieces(excerpt: str) -> list[str]:
    """Clause-sized pieces of one CUAD excerpt: excerpts joined with "<omitted>" are split apart, long
    ones are cut at sentence boundaries, and fragments (starting mid-sentence, mostly capitals, too short)
    are dropped."""
    out = []
    for part in re.split(r"<omitted>|\.{4,}|…", excerpt):
        for piece in split_excerpt(clean_excerpt(part)):
            if usable(piece):
                out.append(piece)
    return out


def usable(text: str) -> bool:
    if len(text) < MIN_CHARS:
        return False
    if not re.match(r"[A-Z0-9\"“(]", text):
        return False
    if re.match(r"\(?[a-z0-9]{1,4}[.)]\s+[a-z]", text):  # "(ii) any client of ..." continues a sentence
        return False
    if not re.search(r"\b(?:shall|will|may|must|agrees?|is|are|be|has|have|can|does|do)\b", text):
        return False  # headings, form fields and other non-clauses
    letters = sum(c.isalpha() for c in text)
    if letters < 0.6 * len(text):
        return False
    if "*" * 3 in text or "[***]" in text and len(text) < 120:
        return False
    words = re.findall(r"[A-Za-z]+", text)
    if len(words) < 10:
        return False
    upper = sum(w.isupper() and len(w) > 1 for w in words)
    return upper < 0.5 * len(words)


def excerpt_key(filename: str, category: str, text: str) -> str:
    digest = hashlib.sha1(f"{filename}\n{category}\n{text}".encode("utf-8")).hexdigest()
    return digest[:12]


def load_cuad_rows(csv_path: Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def cuad_negatives(rows: list[dict]) -> list[dict]:
    records = []
    for category in CUAD_NEGATIVE_CATEGORIES:
        candidates = []
        for row in rows:
            filename = row["Filename"]
            for excerpt in _excerpts(row.get(category, "")):
                for piece in excerpt_pieces(excerpt):
                    if not CUAD_FAMILY_VOCABULARY.search(piece):
                        candidates.append((filename, piece))
        # deterministic sample: order by a hash of the text, at most N per contract
        candidates.sort(key=lambda c: hashlib.sha1(f"{SEED}{c[0]}{c[1]}".encode()).hexdigest())
        per_contract: Counter = Counter()
        taken = 0
        for filename, piece in candidates:
            if taken >= CUAD_NEGATIVES_PER_CATEGORY:
                break
            if per_contract[filename] >= CUAD_NEGATIVES_PER_CONTRACT:
                continue
            per_contract[filename] += 1
            taken += 1
            records.append(_cuad_record(filename, category, piece, [], []))
    return records


def _cuad_record(filename: str, category: str, text: str, risk: list[str], protects: list[str]) -> dict:
    return {
        "id": f"c-{excerpt_key(filename, category, text)}",
        "text": text,
        "risk": _labels(risk, []),
        "protects": _labels(protects, []),
        "source": f"cuad:{filename}:{category}",
        "style": "cuad",
    }


def cuad_labelled(rows: list[dict], labels_path: Path) -> list[dict]:
    """Excerpts of related categories, labelled by hand in cuad_labels.yaml by key (see that file)."""
    data = yaml.safe_load(labels_path.read_text(encoding="utf-8")) or {}
    decisions = {}
    for entry in data.get("labels") or []:
        decisions[entry["key"]] = entry
    records, found = [], set()
    categories = sorted({entry["category"] for entry in decisions.values()})
    for row in rows:
        filename = row["Filename"]
        for category in categories:
            for excerpt in _excerpts(row.get(category, "")):
                for piece in excerpt_pieces(excerpt):
                    key = excerpt_key(filename, category, piece)
                    entry = decisions.get(key)
                    if entry is None or entry.get("label") == "skip":
                        found.add(key) if entry else None
                        continue
                    found.add(key)
                    risk = _families(",".join(entry.get("risk") or []), f"cuad_labels.yaml {key}")
                    protects = _families(",".join(entry.get("protects") or []), f"cuad_labels.yaml {key}")
                    records.append(_cuad_record(filename, category, piece, risk, protects))
    missing = sorted(set(decisions) - found)
    if missing:
        sys.exit(f"cuad_labels.yaml: {len(missing)} keys not found in the CSV (first: {missing[0]})")
    return records


# ------------------------------------------------------------------------------------------- deduplication

def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# Party names are replaced by a role token before near-duplicate detection, so that "The Customer shall not
# be entitled to terminate for convenience" and "The Authority shall not ..." count as the same sentence.
_VENDOR_NAMES = (
    "service provider", "system integrator", "second party", "party b", "helix cloud ltd", "qilin compute co",
    "sahel dataworks", "terragrid systems", "orbis digital fz llc", "kestrel ai inc", "supplier", "vendor",
    "provider", "contractor", "licensor", "operator", "consortium", "manufacturer", "developer", "we", "us", "our",
)
_BUYER_NAMES = (
    "contracting authority", "procuring entity", "county government", "contracting entity", "first party",
    "party a", "city", "customer", "client", "authority", "municipality", "purchaser", "employer", "council",
    "ministry", "department", "agency", "government", "licensee", "you", "your",
)
_ROLES = re.compile(
    r"\b(?:(?P<v>" + "|".join(map(re.escape, _VENDOR_NAMES)) + r")|(?P<b>" + "|".join(map(re.escape, _BUYER_NAMES)) + r"))\b"
)


def role_normalise(text: str) -> str:
    return _ROLES.sub(lambda m: "vendor" if m.group("v") else "buyer", normalise(text))


def shingles(text: str, n: int = 3) -> set[str]:
    words = role_normalise(text).split()
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


NEAR_DUPLICATE = 0.6


def deduplicate(records: list[dict]) -> tuple[list[dict], list[tuple[dict, dict, float]], list[tuple[dict, dict, float]]]:
    """Drop exact duplicates and near-duplicates (Jaccard similarity of word trigrams, party names replaced by
    role tokens, >= NEAR_DUPLICATE) that carry the same labels; keep near-duplicates with different labels
    (contrast pairs such as "the City may ..." / "the Supplier may ...") and report them."""
    kept: list[dict] = []
    kept_shingles: list[set[str]] = []
    index: dict[str, list[int]] = defaultdict(list)
    seen_exact: set[str] = set()
    dropped, contrasts = [], []
    for record in records:
        norm = normalise(record["text"])
        if norm in seen_exact:
            dropped.append((record, record, 1.0))
            continue
        mine = shingles(record["text"])
        candidates = Counter(i for s in mine for i in index[s])
        duplicate_of, contrast_with = None, []
        for i, shared in candidates.most_common():
            other = kept_shingles[i]
            similarity = shared / len(mine | other)
            if similarity < NEAR_DUPLICATE:
                continue
            same = (kept[i]["risk"], kept[i]["protects"]) == (record["risk"], record["protects"])
            if same:
                duplicate_of = (kept[i], similarity)
                break
            contrast_with.append((kept[i], similarity))
        if duplicate_of:
            dropped.append((record, duplicate_of[0], duplicate_of[1]))
            continue
        for other, similarity in contrast_with:
            contrasts.append((record, other, similarity))
        seen_exact.add(norm)
        position = len(kept)
        kept.append(record)
        kept_shingles.append(mine)
        for s in mine:
            index[s].append(position)
    return kept, dropped, contrasts


# ---------------------------------------------------------------------------------------------------- report

def side_counts(records: list[dict]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {"risk": Counter(), "protects": Counter()}
    for record in records:
        for side in ("risk", "protects"):
            counts[side].update(record[side])
    return counts


def source_kind(record: dict) -> str:
    return record["source"].split(":", 1)[0]


def summary(records: list[dict]) -> str:
    lines = [f"total {len(records)}"]
    kinds = Counter(source_kind(r) for r in records)
    lines.append("by source: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    negatives = [r for r in records if not r["risk"] and not r["protects"]]
    neg_kinds = Counter(source_kind(r) for r in negatives)
    lines.append(f"ordinary negatives {len(negatives)}: " + ", ".join(f"{k} {v}" for k, v in sorted(neg_kinds.items())))
    lines.append(f"{'family':15} {'risk':>5} {'(tmpl)':>7} {'(cuad)':>7} {'protects':>9} {'(tmpl)':>7} {'(cuad)':>7}")
    for family in FAMILIES:
        row = [family]
        for side in ("risk", "protects"):
            having = [r for r in records if family in r[side]]
            row += [len(having), sum(source_kind(r) == "template" for r in having), sum(source_kind(r) == "cuad" for r in having)]
        lines.append(f"{row[0]:15} {row[1]:5} {row[2]:7} {row[3]:7} {row[4]:9} {row[5]:7} {row[6]:7}")
    multi = sum(1 for r in records if len(r["risk"]) + len(r["protects"]) > 1)
    lines.append(f"clauses with more than one label: {multi}")
    styles = Counter(r["style"] for r in records)
    lines.append("by style: " + ", ".join(f"{k} {v}" for k, v in sorted(styles.items())))
    return "\n".join(lines)


def requirement_failures(records: list[dict]) -> list[str]:
    """The corpus targets: size, per-side minimum, negatives, and templated examples a minority per side."""
    failures = []
    if len(records) < 1500:
        failures.append(f"only {len(records)} clauses (want >= 1500)")
    for family in FAMILIES:
        for side in ("risk", "protects"):
            having = [r for r in records if family in r[side]]
            templated = sum(source_kind(r) == "template" for r in having)
            if len(having) < 60:
                failures.append(f"{family} {side}: {len(having)} examples (want >= 60)")
            if templated * 2 > len(having):
                failures.append(f"{family} {side}: {templated} of {len(having)} are templated (want at most half)")
    negatives = [r for r in records if not r["risk"] and not r["protects"]]
    written_negatives = [r for r in negatives if source_kind(r) == "written"]
    if len(negatives) < 500:
        failures.append(f"only {len(negatives)} ordinary negatives (want >= 500)")
    if len(written_negatives) < 150:
        failures.append(f"only {len(written_negatives)} hand-written ordinary negatives (want >= 150)")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cuad", type=Path, default=DEFAULT_CUAD, help="path to CUAD master_clauses.csv")
    parser.add_argument("--realworld", type=Path, default=DEFAULT_REALWORLD, help="path to realworld_dev/clauses.jsonl")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="print dropped duplicates and kept contrast pairs")
    args = parser.parse_args(argv)

    written = load_written(HERE / "written")
    recommendations = load_recommendations(REPO / "rules")
    templated = load_templates(HERE / "templates.yaml")
    if not args.cuad.exists():
        sys.exit(f"{args.cuad}: CUAD master_clauses.csv not found (pass --cuad PATH)")
    rows = load_cuad_rows(args.cuad)
    cuad = cuad_labelled(rows, HERE / "cuad_labels.yaml") + cuad_negatives(rows)
    if not args.realworld.exists():
        sys.exit(f"{args.realworld}: realworld_dev clauses not found (pass --realworld PATH)")
    realworld = load_realworld(args.realworld)

    written_kept, written_dropped, _ = deduplicate(written)
    if written_dropped:
        for record, other, similarity in written_dropped:
            print(f"duplicate in written/: {record['id']} ~ {other['id']} ({similarity:.2f})", file=sys.stderr)
        return 1
    records, dropped, contrasts = deduplicate(written + recommendations + templated + realworld + cuad)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(summary(records))
    print(f"dropped {len(dropped)} duplicates or near-duplicates with the same labels "
          f"({Counter(source_kind(r) for r, _, _ in dropped)}); kept {len(contrasts)} near-duplicate contrast pairs")
    if args.check:
        for record, other, similarity in dropped:
            print(f"DROP {similarity:.2f} {record['id']} ~ {other['id']}\n  {record['text'][:150]}\n  {other['text'][:150]}")
        for record, other, similarity in contrasts:
            print(f"CONTRAST {similarity:.2f} {record['id']} {record['risk']}{record['protects']} ~ "
                  f"{other['id']} {other['risk']}{other['protects']}")
    print(f"wrote {args.out} (sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()[:16]})")
    failures = requirement_failures(records)
    for failure in failures:
        print(f"TARGET NOT MET: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
