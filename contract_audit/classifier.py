"""The clause classifier: one calibrated linear model per family and side, stored as plain arrays.

Training uses scikit-learn (TF-IDF over `features.analyze`, logistic regression per label, Platt scaling
fitted on cross-validated scores). Prediction needs only numpy: the model file is an .npz of plain arrays,
loaded with allow_pickle=False, and its SHA-256 and schema are checked against the JSON card beside it.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .features import PARTY_TOKENS, tokens
from .model import FAMILIES

SCHEMA_VERSION = 1
LABELS: tuple[str, ...] = tuple(f"risk:{f}" for f in FAMILIES) + tuple(f"protects:{f}" for f in FAMILIES)
MODEL_NAME = "clause_model"
_ARRAYS = {"vocabulary": "U", "idf": "f", "coef": "f", "intercept": "f", "platt": "f"}


@dataclass(frozen=True)
class ClauseModel:
    vocabulary: np.ndarray  # (n_features,) feature strings
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features, n_labels)
    intercept: np.ndarray  # (n_labels,)
    platt: np.ndarray  # (n_labels, 2): probability = sigmoid(a * score + b)
    thresholds: dict[str, float]
    meta: dict

    @property
    def table(self) -> FeatureTable:
        cached = self.meta.get("_table")
        if cached is None:
            cached = self.meta["_table"] = FeatureTable.of(self.vocabulary.tolist())
        return cached

    @property
    def label_weights(self) -> np.ndarray:
        """The coefficients as float64, one contiguous row per label (n_labels, n_features)."""
        cached = self.meta.get("_label_weights")
        if cached is None:
            cached = self.meta["_label_weights"] = np.ascontiguousarray(self.coef.T, dtype=np.float64)
        return cached

    def _rows(self, texts: list[str]):
        """TF-IDF rows as flat (row ids, feature ids, weights), sorted by row, l2-normalised per row."""
        rows, columns = self.table.features(texts)
        if not len(columns):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        n_features = len(self.vocabulary)
        keys, counts = np.unique(rows * n_features + columns, return_counts=True)
        rows, cols = keys // n_features, keys % n_features
        weights = (1.0 + np.log(counts.astype(np.float64))) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=len(texts)))
        return rows, cols, weights / norms[rows]

    def decision(self, texts: list[str]) -> np.ndarray:
        scores = np.tile(self.intercept.astype(np.float64), (len(texts), 1))
        rows, cols, values = self._rows(texts)
        if len(rows):
            # One weighted bincount per label: a sparse-times-dense product without a sparse-matrix library.
            for label, weights in enumerate(self.label_weights):
                scores[:, label] += np.bincount(rows, weights=values * weights[cols], minlength=len(texts))
        return scores

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """(n_texts, n_labels) calibrated probabilities, columns in LABELS order, in one vectorised pass."""
        if not texts:
            return np.zeros((0, len(LABELS)))
        scores = self.decision(texts)
        return 1.0 / (1.0 + np.exp(-(self.platt[:, 0] * scores + self.platt[:, 1])))

    def top_terms(self, text: str, label: str, k: int = 5) -> list[str]:
        """The features that pushed this clause hardest towards `label`."""
        column = LABELS.index(label)
        rows, cols, values = self._rows([text])
        contributions = values * self.coef[cols, column]
        order = np.argsort(-contributions)[:k]
        return [str(self.vocabulary[cols[i]]) for i in order if contributions[i] > 0]


# ---------------------------------------------------------------- persistence


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A byte-for-byte reproducible .npz (fixed zip timestamps, fixed order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            item = io.BytesIO()
            np.save(item, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, item.getvalue())
    return buffer.getvalue()


def save_model(model: ClauseModel, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    data = _npz_bytes({
        "vocabulary": model.vocabulary, "idf": model.idf.astype(np.float32), "coef": model.coef.astype(np.float32),
        "intercept": model.intercept.astype(np.float32), "platt": model.platt.astype(np.float32),
    })
    npz_path, card_path = directory / f"{MODEL_NAME}.npz", directory / f"{MODEL_NAME}.json"
    npz_path.write_bytes(data)
    meta = {k: v for k, v in model.meta.items() if not k.startswith("_")}
    card = {
        "schema_version": SCHEMA_VERSION, "sha256": hashlib.sha256(data).hexdigest(), "labels": list(LABELS),
        "features": int(len(model.vocabulary)), "thresholds": model.thresholds, **meta,
    }
    card_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return npz_path, card_path


def shipped_model_dir() -> Path:
    from .resources import shipped_dir

    return shipped_dir("models", "contract_audit.shipped_models")


def load_model(directory: Path | None = None) -> ClauseModel:
    """Load and verify a model; any mismatch is a ModelError with a message the user can act on."""
    directory = Path(directory) if directory else shipped_model_dir()
    npz_path, card_path = directory / f"{MODEL_NAME}.npz", directory / f"{MODEL_NAME}.json"
    if not npz_path.is_file() or not card_path.is_file():
        raise ModelError(f"{directory}: no trained model ({MODEL_NAME}.npz and .json); run 'contract-audit train'")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_path}: unreadable model card ({exc})") from None
    data = npz_path.read_bytes()
    if card.get("schema_version") != SCHEMA_VERSION or card.get("labels") != list(LABELS):
        raise ModelError(f"{card_path}: model schema {card.get('schema_version')} or labels do not match this version")
    if hashlib.sha256(data).hexdigest() != card.get("sha256"):
        raise ModelError(f"{npz_path}: checksum mismatch with {card_path.name}; the model file is corrupt or was altered")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in _ARRAYS}
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{npz_path}: not a valid model file ({exc})") from None
    n_features, n_labels = len(arrays["vocabulary"]), len(LABELS)
    expected_shapes = {"vocabulary": (n_features,), "idf": (n_features,), "coef": (n_features, n_labels),
                       "intercept": (n_labels,), "platt": (n_labels, 2)}
    for name, kind in _ARRAYS.items():
        if arrays[name].dtype.kind != kind or arrays[name].shape != expected_shapes[name]:
            raise ModelError(f"{npz_path}: array '{name}' has the wrong type or shape")
    thresholds = {label: float(card["thresholds"][label]) for label in LABELS}
    meta = {k: v for k, v in card.items() if k not in ("thresholds",)}
    return ClauseModel(thresholds=thresholds, meta=meta, **arrays)


@dataclass(frozen=True)
class FeatureTable:
    """The vocabulary's features (see features.analyze) as integer keys, so that the unigrams, bigrams and party
    trigrams of many texts are looked up with a few numpy operations instead of one string each.

    Every word of an n-gram feature is in practice a unigram feature too (an n-gram is never more frequent than
    its words, so min_df keeps them), but the table does not rely on it: any word of any feature gets an id.
    """

    word_ids: dict[str, int]
    unigram_columns: np.ndarray  # per word id: the column of that word as a unigram, or -1
    bigram_keys: np.ndarray  # sorted first * n_words + second
    bigram_columns: np.ndarray
    trigram_keys: np.ndarray  # sorted (first * n_words + second) * n_words + third
    trigram_columns: np.ndarray
    party_ids: np.ndarray  # ids of the role tokens that start a trigram

    @classmethod
    def of(cls, vocabulary: list[str]) -> FeatureTable:
        split = [term.split(" ") for term in vocabulary]
        word_ids: dict[str, int] = {}
        for words in split:
            for word in words:
                word_ids.setdefault(word, len(word_ids))
        n = len(word_ids)
        if n ** 3 >= 1 << 63:
            raise ModelError(f"a vocabulary of {n} words is too large for 64-bit trigram keys")
        unigram_columns = np.full(n, -1, dtype=np.int64)
        bigrams, trigrams = {}, {}
        for column, words in enumerate(split):
            ids = [word_ids[word] for word in words]
            if len(ids) == 1:
                unigram_columns[ids[0]] = column
            elif len(ids) == 2:
                bigrams[ids[0] * n + ids[1]] = column
            elif len(ids) == 3:
                trigrams[(ids[0] * n + ids[1]) * n + ids[2]] = column
        party_ids = np.array(sorted(word_ids[t] for t in PARTY_TOKENS if t in word_ids), dtype=np.int64)
        return cls(word_ids, unigram_columns, *_sorted_table(bigrams), *_sorted_table(trigrams), party_ids)

    def features(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every feature occurrence in `texts`, one pair per occurrence, in no set order."""
        get, unknown = self.word_ids.get, itertools.repeat(-1)
        ids: list[int] = []
        lengths = []
        for text in texts:
            words = tokens(text)
            ids.extend(map(get, words, unknown))  # get(word, -1) for each word
            lengths.append(len(words))
        word = np.array(ids, dtype=np.int64)
        row = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        n = len(self.word_ids)
        known = word >= 0
        unigram = np.full(len(word), -1, dtype=np.int64)
        unigram[known] = self.unigram_columns[word[known]]
        parts_rows, parts_columns = [row[unigram >= 0]], [unigram[unigram >= 0]]
        first, second = word[:-1], word[1:]
        pair = (row[:-1] == row[1:]) & (first >= 0) & (second >= 0)
        found, columns = _lookup(first[pair] * n + second[pair], self.bigram_keys, self.bigram_columns)
        parts_rows.append(row[:-1][pair][found])
        parts_columns.append(columns)
        if len(self.party_ids):
            first, second, third = word[:-2], word[1:-1], word[2:]
            triple = (row[:-2] == row[2:]) & np.isin(first, self.party_ids) & (second >= 0) & (third >= 0)
            found, columns = _lookup((first[triple] * n + second[triple]) * n + third[triple], self.trigram_keys,
                                     self.trigram_columns)
            parts_rows.append(row[:-2][triple][found])
            parts_columns.append(columns)
        return np.concatenate(parts_rows), np.concatenate(parts_columns)


def _sorted_table(table: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(sorted(table), dtype=np.int64)
    return keys, np.array([table[key] for key in keys.tolist()], dtype=np.int64)


def _lookup(keys: np.ndarray, table_keys: np.ndarray, table_columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of `keys` are in the sorted `table_keys`, and the columns of those that are."""
    if not len(table_keys):
        return np.zeros(len(keys), dtype=bool), np.zeros(0, dtype=np.int64)
    position = np.minimum(np.searchsorted(table_keys, keys), len(table_keys) - 1)
    found = table_keys[position] == keys
    return found, table_columns[position[found]]
