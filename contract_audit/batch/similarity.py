"""Near-duplicate contracts (one template, small edits): MinHash signatures of word shingles, grouped by LSH.

Shingles are runs of 8 words in reading order, so that two contracts built from the same stock clauses in a
different order or with different numbering do not look alike, while a template with a changed party name,
dates or a few clauses keeps most of its shingles.
"""
from __future__ import annotations

import numpy as np

SCHEME = 2  # part of a store's settings: signatures of different schemes do not compare
SHINGLE_WORDS = 8
PERMUTATIONS = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.8 similarity almost always meet in a band
THRESHOLD = 0.8
_SAMPLE_MASK = np.uint64(3)  # keep the shingles whose hash ends in 00: a consistent quarter of them, 4x less work
_rng = np.random.default_rng(20240611)  # fixed: signatures must compare across runs and machines
_A = _rng.integers(1, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)  # odd multipliers
_B = _rng.integers(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)
# The bytes of a word in lower-cased UTF-8: ASCII letters, digits and '_', and every byte of a non-ASCII
# character (so non-ASCII punctuation joins the words beside it, which only blurs near-duplicate grouping).
_WORD_BYTES = np.zeros(256, dtype=bool)
_WORD_BYTES[[*b"0123456789_abcdefghijklmnopqrstuvwxyz", *range(0x80, 0x100)]] = True
_WORD_BASE = 0x100000001B3  # odd, so it has an inverse modulo 2**64
_WORD_BASE_INVERSE = pow(_WORD_BASE, -1, 1 << 64)


def signature(text: str) -> bytes:
    """A 64-value MinHash of the text's 8-word shingles, as bytes (512)."""
    word_hashes = _word_hashes(text)
    if not len(word_hashes):
        return b""
    width = min(SHINGLE_WORDS, len(word_hashes))
    shingles = np.zeros(len(word_hashes) - width + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(width):
            # Polynomial rolling combination; uint64 wrap-around is intended.
            shingles = shingles * np.uint64(1000003) + word_hashes[offset:offset + len(shingles)]
        shingles ^= shingles >> np.uint64(29)
        sampled = np.unique(shingles[(shingles & _SAMPLE_MASK) == 0])
        if not len(sampled):
            sampled = shingles[:1]
        # Multiply-add hashing modulo 2**64 (odd multipliers), one per permutation; the minimum of each.
        minimum = (sampled[:, None] * _A + _B).min(axis=0)
    return minimum.astype("<u8").tobytes()


def _word_hashes(text: str) -> np.ndarray:
    """A 64-bit polynomial hash of each word of the lower-cased text, computed for all words at once.

    Words are runs of word bytes in the UTF-8 text. With prefix sums of byte * base**position, a word's hash is
    (prefix[end] - prefix[start]) * base**-start, all modulo 2**64: no Python work per word."""
    data = np.frombuffer(text.lower().encode("utf-8", "replace"), dtype=np.uint8)
    in_word = np.zeros(len(data) + 2, dtype=bool)
    in_word[1:-1] = _WORD_BYTES[data]
    edges = np.flatnonzero(in_word[1:] != in_word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    powers, inverse_powers = _powers(len(data))
    with np.errstate(over="ignore"):
        prefix = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(data * powers)))
        return (prefix[ends] - prefix[starts]) * inverse_powers[starts]


_power_table = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64))


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """base**(i + 1) and base**-i for i < length, modulo 2**64; kept for the longest text so far."""
    global _power_table
    if len(_power_table[0]) < length:
        size = max(length, 2 * len(_power_table[0]), 1 << 16)
        with np.errstate(over="ignore"):
            powers = np.cumprod(np.full(size, _WORD_BASE, dtype=np.uint64))
            inverse = np.concatenate(([np.uint64(1)],
                                      np.cumprod(np.full(size - 1, _WORD_BASE_INVERSE, dtype=np.uint64))))
        _power_table = (powers, inverse)
    return _power_table[0][:length], _power_table[1][:length]


def similarity(first: bytes, second: bytes) -> float:
    if not first or not second:
        return 0.0
    a, b = np.frombuffer(first, dtype="<u8"), np.frombuffer(second, dtype="<u8")
    return float((a == b).mean())


def near_duplicate_groups(signatures: dict[str, bytes], threshold: float = THRESHOLD) -> dict[str, str]:
    """Map each key that has near duplicates to its group's label: the smallest key in the group.

    Keys are compared in sorted order, so the grouping does not depend on the order results arrived in.
    """
    keys = sorted(k for k, s in signatures.items() if s)
    parent = {k: k for k in keys}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    rows = PERMUTATIONS // BANDS
    for band in range(BANDS):
        buckets: dict[bytes, list[str]] = {}
        for key in keys:
            buckets.setdefault(signatures[key][band * rows * 8:(band + 1) * rows * 8], []).append(key)
        for members in buckets.values():
            seen: list[str] = []  # one member per group met so far in this bucket
            for key in members:
                for other in seen:
                    if root(other) != root(key) and similarity(signatures[other], signatures[key]) >= threshold:
                        low, high = sorted((root(other), root(key)))
                        parent[high] = low
                if all(root(other) != root(key) for other in seen):
                    seen.append(key)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(root(key), []).append(key)
    return {key: label for label, members in groups.items() if len(members) > 1 for key in members}
