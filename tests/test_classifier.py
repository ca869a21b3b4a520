"""Training, persistence and loading of the clause classifier on a small synthetic corpus."""
import json

import numpy as np
import pytest

from contract_audit.classifier import LABELS, FeatureTable, load_model
from contract_audit.errors import ModelError
from contract_audit.features import analyze, tokens
from contract_audit.model import FAMILIES
from contract_audit.rules import load_rules
from contract_audit.training import train

pytest.importorskip("sklearn")

SUBJECTS = ["The Supplier", "The Vendor", "The Provider", "The Contractor", "We", "The Licensor", "The Operator", "The Integrator"]
RISK = {family: f"may at any time {family.replace('-', ' ')} riskword{i}" for i, family in enumerate(FAMILIES)}
PROTECT = {family: f"shall guarantee {family.replace('-', ' ')} safeguard{i}" for i, family in enumerate(FAMILIES)}


def synthetic_corpus(path):
    rows = []
    for family in FAMILIES:
        for subject in SUBJECTS:
            rows.append({"text": f"{subject} {RISK[family]} without notice.", "risk": [family], "protects": []})
            rows.append({"text": f"{subject} {PROTECT[family]} for the City.", "risk": [], "protects": [family]})
    for n in range(40):
        rows.append({"text": f"The parties shall meet monthly to review invoice number {n} and the programme.", "risk": [], "protects": []})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("model")
    corpus = synthetic_corpus(base / "corpus.jsonl")
    model = train(corpus, base / "m1", seed=3)
    return base, corpus, model


def test_training_is_reproducible_to_the_byte(trained):
    base, corpus, _ = trained
    train(corpus, base / "m2", seed=3)
    assert (base / "m1" / "clause_model.npz").read_bytes() == (base / "m2" / "clause_model.npz").read_bytes()
    assert (base / "m1" / "clause_model.json").read_text() == (base / "m2" / "clause_model.json").read_text()


def test_loaded_model_predicts_in_one_call(trained):
    base, _, _ = trained
    model = load_model(base / "m1")
    texts = [f"The Provider {RISK['key-custody']} without notice.", f"The Vendor {PROTECT['exit']} for the City.",
             "The parties shall meet monthly to review invoice number 3 and the programme."]
    probabilities = model.predict_proba(texts)
    assert probabilities.shape == (3, len(LABELS))
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert probabilities[0, LABELS.index("risk:key-custody")] > 0.5
    assert probabilities[1, LABELS.index("protects:exit")] > 0.5
    assert probabilities[2].max() < 0.5
    assert any("riskword5" in term for term in model.top_terms(texts[0], "risk:key-custody"))
    card = json.loads((base / "m1" / "clause_model.json").read_text())
    assert set(card["thresholds"]) == set(LABELS) and card["examples"] == len(FAMILIES) * 16 + 40


def test_tampered_model_is_refused(trained, tmp_path):
    base, _, _ = trained
    for name in ("clause_model.npz", "clause_model.json"):
        (tmp_path / name).write_bytes((base / "m1" / name).read_bytes())
    data = bytearray((tmp_path / "clause_model.npz").read_bytes())
    data[100] ^= 0xFF
    (tmp_path / "clause_model.npz").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_model(tmp_path)


def test_wrong_schema_is_refused(trained, tmp_path):
    base, _, _ = trained
    (tmp_path / "clause_model.npz").write_bytes((base / "m1" / "clause_model.npz").read_bytes())
    card = json.loads((base / "m1" / "clause_model.json").read_text())
    card["labels"] = card["labels"][:-1]
    (tmp_path / "clause_model.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="labels"):
        load_model(tmp_path)


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelError, match="no trained model"):
        load_model(tmp_path)


def test_negation_and_roles_in_features():
    assert tokens("The City shall not install tools") == ["the", "_buyer_", "shall", "not", "not_install", "not_tools"]
    assert tokens("NovaStack's Vendor may access")[1] == "_vendor_"


def _feature_counts_from_strings(model, texts):
    """The plain reading of the model's features: every string of features.analyze looked up by name."""
    index = {term: column for column, term in enumerate(model.vocabulary.tolist())}
    counts = {}
    for row, text in enumerate(texts):
        for feature in analyze(text):
            column = index.get(feature)
            if column is not None:
                counts[row, column] = counts.get((row, column), 0) + 1
    return counts


def test_feature_table_finds_the_same_features_as_the_feature_strings():
    model = load_model()
    texts = [example for rule in load_rules().rules for example in rule.positive_examples + rule.negative_examples]
    texts += ["", "shall", "We shall not, without the City's consent, store data abroad; you may audit it.",
              "The Supplier shall host the data. The City shall never grant remote access (except by law)."]
    rows, columns = model.table.features(texts)
    counts = {}
    for row, column in zip(rows.tolist(), columns.tolist()):
        counts[row, column] = counts.get((row, column), 0) + 1
    expected = _feature_counts_from_strings(model, texts)
    assert counts == expected
    empty = FeatureTable.of([])  # a model with no features scores every text by its intercepts alone
    assert [len(part) for part in empty.features(["The Supplier shall host data.", ""])] == [0, 0]
    assert any(" " in str(model.vocabulary[column]) for _, column in expected)  # bigrams and trigrams too
    assert any(str(model.vocabulary[column]).count(" ") == 2 for _, column in expected)


def test_shipped_model_is_reproducible_from_the_repository(tmp_path):
    """Retraining on the shipped corpus with the default seed gives the shipped model, byte for byte."""
    from contract_audit.classifier import shipped_model_dir
    from contract_audit.training import DEFAULT_SEED

    shipped = shipped_model_dir()
    corpus = shipped / "data" / "corpus.jsonl"
    if not (shipped / "clause_model.npz").is_file():
        pytest.skip("no shipped model in this checkout")
    train(corpus, tmp_path, seed=DEFAULT_SEED)
    assert (tmp_path / "clause_model.npz").read_bytes() == (shipped / "clause_model.npz").read_bytes()
    load_model(shipped)  # checksum and schema of the shipped files


def test_classifier_alone_flags_only_clauses_on_the_family_subject(auditor):
    """A clause about intercept interfaces shares 'standard ... include' wording with bundled surveillance
    modules; without a surveillance topic word the classifier must not flag surveillance on its own."""
    from contract_audit.fusion import family_vocabulary, topics

    vocabulary = family_vocabulary(auditor.ruleset)
    assert topics("The cameras shall run face recognition.", vocabulary) >= {"surveillance"}
    assert "surveillance" not in topics("The Network Elements shall include lawful interception interfaces.", vocabulary)
    assert "surveillance" not in topics("Cameras-free zones", {"surveillance": frozenset({" camera "})})
    text = ("The Network Elements shall include the interception interfaces described in the Supplier's standard "
            "product documentation, which the Supplier shall operate.")
    result = auditor.classify([text])[0]
    assert all(f.source != "classifier" or f.family != "surveillance" for f in result.findings)


def test_a_clause_points_at_the_definitions_it_uses_and_the_clauses_it_cites():
    from contract_audit.clauses import defined_terms, numbered, pointed_at
    from contract_audit.model import Clause

    clauses = [
        Clause(id="c1", number="1.1", heading="", text='"Optional Modules" means the plate recognition and re-identification modules.', page=1),
        Clause(id="c2", number="2.3", heading="", text="The Nodes run face recognition.", page=1),
        Clause(id="c3", number="3.2", heading="", text="The Optional Modules and the functions in Clause 2.3 shall be active.", page=1),
    ]
    definitions, by_number = defined_terms(clauses), numbered(clauses)
    assert [c.id for c in pointed_at(clauses[2].text, definitions, by_number, "c3")] == ["c1", "c2"]
    assert pointed_at(clauses[0].text, definitions, by_number, "c1") == []


def test_the_tools_own_replacement_language_raises_no_risk(auditor):
    """A redline that accepts every recommendation must not be flagged again, by rules or classifier."""
    rules = [rule for rule in auditor.ruleset.rules if rule.kind == "risk"]
    texts = [rule.recommendation for rule in rules] + [info.recommendation for info in auditor.ruleset.families.values()]
    flagged = [(text[:60], [f.rule_id for f in result.findings]) for text, result in zip(texts, auditor.classify(texts))
               if result.findings]
    assert flagged == []
