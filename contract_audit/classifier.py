"""The clause classifier: one calibrated linear model per family and side, stored as plain arrays.

Training uses scikit-learn (TF-IDF over `features.analyze`, logistic regression per label, Platt scaling
fitted on cross-validated scores). Prediction needs only numpy: the model file is an .npz of plain arrays,
loaded with allow_pickle=False, and its SHA-256 and schema are checked against the JSON card beside it.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .features import analyze
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
    def index(self) -> dict[str, int]:
        cached = self.meta.get("_index")
        if cached is None:
            cached = {term: i for i, term in enumerate(self.vocabulary.tolist())}
            self.meta["_index"] = cached
        return cached

    def _rows(self, texts: list[str]):
        """TF-IDF rows as flat (row ids, feature ids, weights), sorted by row, l2-normalised per row."""
        index = self.index
        columns, lengths = [], []
        for text in texts:
            known = [column for column in map(index.get, analyze(text)) if column is not None]
            columns.extend(known)
            lengths.append(len(known))
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        n_features = len(self.vocabulary)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        keys, counts = np.unique(rows * n_features + np.array(columns, dtype=np.int64), return_counts=True)
        rows, cols = keys // n_features, keys % n_features
        weights = (1.0 + np.log(counts.astype(np.float64))) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=len(texts)))
        return rows, cols, weights / norms[rows]

    def decision(self, texts: list[str]) -> np.ndarray:
        scores = np.tile(self.intercept.astype(np.float64), (len(texts), 1))
        rows, cols, values = self._rows(texts)
        if len(rows):
            contributions = self.coef[cols].astype(np.float64) * values[:, None]
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            scores[rows[starts]] += np.add.reduceat(contributions, starts, axis=0)
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
