"""Train the clause classifier from a labelled corpus; needs scikit-learn (the `train` extra)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .classifier import LABELS, ClauseModel
from .errors import AuditError, ModelError
from .features import analyze, with_role_words

DEFAULT_SEED = 13
FOLDS = 5
THRESHOLD_GRID = tuple(round(x, 2) for x in np.arange(0.30, 0.91, 0.05))
C = 4.0
MIN_DF = 2


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise AuditError("training and cross-validation need scikit-learn: pip install 'contract-audit[train]'"
                         " (from a checkout: pip install '.[train]'); `evaluate --no-cv` works without it") from None


def document_key(source: str, doc: str = "", fallback: str = "") -> str:
    """The source document a clause comes from, the same for every copy of that document: one CUAD contract
    whatever folder or category names it, one published document, one template; else the clause itself."""
    if source.startswith("cuad:") or "CUAD_v1:" in source:
        name = source.split(":")[1] if source.startswith("cuad:") else source.rsplit("/", 1)[-1]
        return "cuad:" + name.rsplit(".", 1)[0].strip().lower()
    if doc:
        return "doc:" + doc
    if source.startswith("template:"):
        return source
    return "clause:" + (fallback or source)


def load_corpus(path: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, a (n, n_labels) 0/1 matrix in LABELS order, and each example's source document (document_key)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the training corpus ({exc.strerror})") from None
    texts, rows, sources = [], [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            labels = {f"risk:{f}" for f in record.get("risk") or []} | {f"protects:{f}" for f in record.get("protects") or []}
            text = record["text"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise AuditError(f"{path}:{number}: not a labelled clause ({exc})") from None
        unknown = labels - set(LABELS)
        if unknown:
            raise AuditError(f"{path}:{number}: unknown label '{sorted(unknown)[0]}'")
        texts.append(text)
        rows.append([1 if label in labels else 0 for label in LABELS])
        sources.append(document_key(str(record.get("source", "")), str(record.get("doc") or ""),
                                    str(record.get("id", number))))
    return texts, np.array(rows, dtype=np.int8), sources


def strata(Y: np.ndarray) -> np.ndarray:
    """One stratum per example: its first label, or 'none', so that every fold sees every label."""
    names = []
    for row in Y:
        hits = np.flatnonzero(row)
        names.append(LABELS[hits[0]] if len(hits) else "none")
    return np.array(names)


def _fit_linear(X, Y: np.ndarray, seed: int):
    from sklearn.linear_model import LogisticRegression

    models = []
    for column in range(Y.shape[1]):
        model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=5000, random_state=seed)
        model.fit(X, Y[:, column])
        models.append(model)
    return models


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    calibrator = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    calibrator.fit(scores.reshape(-1, 1), y)
    return float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0])


def _best_threshold(probabilities: np.ndarray, y: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for threshold in THRESHOLD_GRID:
        predicted = probabilities >= threshold
        tp = int(np.sum(predicted & (y == 1)))
        fp = int(np.sum(predicted & (y == 0)))
        fn = int(np.sum(~predicted & (y == 1)))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(threshold), f1
    return best


def fit(texts: list[str], Y: np.ndarray, seed: int = DEFAULT_SEED, meta: dict | None = None) -> ClauseModel:
    """Fit the vectoriser and one logistic regression per label; calibrate and pick thresholds on inner CV."""
    _sklearn()
    positives = Y.sum(axis=0)
    for label, count in zip(LABELS, positives):
        if count < FOLDS or count > len(texts) - FOLDS:
            raise ModelError(f"label '{label}' has {count} positive examples of {len(texts)}; each label needs "
                             f"at least {FOLDS} positive and {FOLDS} negative examples to train on")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold

    vectorizer = TfidfVectorizer(analyzer=analyze, min_df=MIN_DF, sublinear_tf=True, dtype=np.float64)
    X = vectorizer.fit_transform([with_role_words(text) for text in texts])
    out_of_fold = np.zeros(Y.shape, dtype=np.float64)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train_index, test_index in folds.split(np.zeros(len(texts)), _mergeable(strata(Y))):
        for column, model in enumerate(_fit_linear(X[train_index], Y[train_index], seed)):
            out_of_fold[test_index, column] = model.decision_function(X[test_index])
    models = _fit_linear(X, Y, seed)
    platt = np.array([_platt(out_of_fold[:, j], Y[:, j]) for j in range(Y.shape[1])])
    calibrated = 1.0 / (1.0 + np.exp(-(platt[:, 0] * out_of_fold + platt[:, 1])))
    thresholds = {label: _best_threshold(calibrated[:, j], Y[:, j]) for j, label in enumerate(LABELS)}
    vocabulary = vectorizer.get_feature_names_out()
    return ClauseModel(
        vocabulary=np.array(vocabulary, dtype=str), idf=vectorizer.idf_.astype(np.float64),
        coef=np.stack([m.coef_[0] for m in models], axis=1), intercept=np.array([m.intercept_[0] for m in models]),
        platt=platt, thresholds=thresholds, meta=dict(meta or {}, seed=seed, examples=len(texts)),
    )


def _mergeable(labels: np.ndarray) -> np.ndarray:
    """Fold rare strata into 'rare' so that StratifiedKFold has at least FOLDS members in each."""
    values, counts = np.unique(labels, return_counts=True)
    rare = set(values[counts < FOLDS])
    return np.array(["rare" if label in rare else label for label in labels])


def cross_validated_probabilities(texts: list[str], Y: np.ndarray, seed: int = DEFAULT_SEED,
                                  groups: list[str] | None = None):
    """Out-of-fold probabilities and the thresholds each fold's own model chose, for honest evaluation.

    With `groups` (each example's source document), no document has examples on both sides of a split."""
    _sklearn()
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    probabilities = np.zeros(Y.shape)
    thresholds = np.zeros(Y.shape)
    if groups is None:
        splits = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed + 1).split(
            np.zeros(len(texts)), _mergeable(strata(Y)))
    else:
        splits = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed + 1).split(
            np.zeros(len(texts)), _mergeable(strata(Y)), groups)
    for train_index, test_index in splits:
        model = fit([texts[i] for i in train_index], Y[train_index], seed)
        probabilities[test_index] = model.predict_proba([with_role_words(texts[i]) for i in test_index])
        thresholds[test_index] = [model.thresholds[label] for label in LABELS]
    return probabilities, thresholds


def train(corpus: str | Path, out_dir: str | Path, seed: int = DEFAULT_SEED) -> ClauseModel:
    from .classifier import save_model

    corpus = Path(corpus)
    texts, Y, sources = load_corpus(corpus)
    if len(texts) < 50:
        raise ModelError(f"{corpus}: {len(texts)} examples are too few to train on")
    meta = {
        "corpus": corpus.name, "corpus_sha256": hashlib.sha256(corpus.read_bytes()).hexdigest(),
        "label_counts": {label: int(Y[:, j].sum()) for j, label in enumerate(LABELS)},
        "method": f"TF-IDF (unigrams+bigrams, role and negation tokens, min_df={MIN_DF}) + logistic regression "
                  f"(liblinear, C={C}, balanced) per label, Platt scaling on {FOLDS}-fold out-of-fold scores",
    }
    model = fit(texts, Y, seed, meta)
    save_model(model, Path(out_dir))
    return model


def held_out_probabilities(held_texts: list[str], held_keys: list[str], corpus_texts: list[str], corpus_Y: np.ndarray,
                           corpus_keys: list[str], extra_texts: list[str] | None = None, extra_Y: np.ndarray | None = None,
                           extra_keys: list[str] | None = None, folds: int = FOLDS, seed: int = DEFAULT_SEED):
    """Document-grouped cross-validation of a labelled set against the training corpus.

    The held-out clauses' documents are split into `folds`; for each fold a model is trained on the corpus
    plus the `extra` labelled clauses, leaving out every example from the fold's documents (by document key)
    and every copy of a held-out clause (by normalised text), and it judges that fold's clauses. Returns
    probabilities and per-clause thresholds, as cross_validated_probabilities does."""
    _sklearn()
    from sklearn.model_selection import GroupKFold

    from .evaluate import normalised

    extra_texts, extra_keys = extra_texts or [], extra_keys or []
    extra_Y = extra_Y if extra_Y is not None else np.zeros((0, len(LABELS)), dtype=np.int8)
    all_texts = corpus_texts + extra_texts
    all_Y = np.vstack([corpus_Y, extra_Y]) if len(extra_texts) else corpus_Y
    all_keys = corpus_keys + extra_keys
    all_normal = [normalised(t) for t in all_texts]
    probabilities = np.zeros((len(held_texts), len(LABELS)))
    thresholds = np.zeros((len(held_texts), len(LABELS)))
    n_folds = min(folds, len(set(held_keys)))
    for _, test_index in GroupKFold(n_splits=n_folds).split(np.zeros(len(held_texts)), groups=held_keys):
        keys = {held_keys[i] for i in test_index}
        texts = {normalised(held_texts[i]) for i in test_index}
        keep = [i for i in range(len(all_texts)) if all_keys[i] not in keys and all_normal[i] not in texts]
        model = fit([all_texts[i] for i in keep], all_Y[keep], seed)
        probabilities[test_index] = model.predict_proba([with_role_words(held_texts[i]) for i in test_index])
        thresholds[test_index] = [model.thresholds[label] for label in LABELS]
    return probabilities, thresholds
