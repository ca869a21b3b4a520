"""A per-machine cache of compiled rule regexes and of their prefilter requirements.

Python's `re` compiles in pure Python: about half a millisecond per rule regex, and a contract needs 100 to
200 of them, which is most of a command-line scan's own time after start-up. The cache keeps, per regex, the
program `re` compiled it to (a list of integers) and hands it straight to the C matcher (`_sre.compile`,
which checks the program before accepting it) on the next run; it also keeps the prefilter's requirement
for each regex source, used again only with the same prefilter code and party macro words (a digest of
both).

It lives in $CONTRACT_AUDIT_CACHE_DIR or ~/.cache/contract-audit (CONTRACT_AUDIT_CACHE_DIR=off turns it
off), holds nothing but rule patterns (party names are masked before matching, so no contract text ever
reaches it), is specific to the Python version, and is ignored, with a normal compile instead, whenever it
cannot be read or used. Only matching speed depends on it, never a result.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import prefilter
from .atomic import replacing
from .prefilter import Requirement

try:  # the compiler behind re.compile; the cache is simply not used where these are missing
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover - other Python implementations
    _sre = None

ENVIRONMENT_VARIABLE = "CONTRACT_AUDIT_CACHE_DIR"
_FORMAT = 2


@dataclass
class _Program:
    pattern: str
    requested_flags: int  # as given to compile
    flags: int  # as compiled (the parser adds some)
    code: np.ndarray  # the compiled program, uint32
    groups: int
    groupindex: dict[str, int]


def cache_path() -> Path | None:
    """Where the cache file lives, or None when caching is off."""
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "")
    if setting.lower() == "off" or _sre is None:
        return None
    try:
        folder = Path(setting) if setting else Path.home() / ".cache" / "contract-audit"
    except RuntimeError:  # no home directory to speak of
        return None
    tag = f"py{sys.version_info.major}{sys.version_info.minor}-sre{_sre.MAGIC}"
    return folder / f"regex-cache-{tag}.npz"


@dataclass
class RegexCache:
    path: Path | None
    programs: dict[tuple[str, int], _Program] = field(default_factory=dict)
    requirements: dict[str, Requirement] = field(default_factory=dict)
    changed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the web server audits in threads

    @classmethod
    def load(cls) -> RegexCache:
        path = cache_path()
        cache = cls(path)
        if path is None or not path.is_file():
            return cache
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes().decode("utf-8"))
                code = data["code"]
            if meta.get("format") != _FORMAT:
                return cache
            for pattern, requested, flags, start, end, groups, groupindex in meta["programs"]:
                cache.programs[pattern, requested] = _Program(pattern, requested, flags, code[start:end], groups,
                                                              groupindex)
            version = _prefilter_version()
            if version != "unknown" and meta.get("prefilter") == version:  # other prefilter code may differ
                for source, stored in meta["requirements"].items():
                    cache.requirements[source] = _requirement_from_json(stored)
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path)  # unreadable or from another version: start afresh
        return cache

    def compile(self, pattern: str, flags: int) -> re.Pattern:
        """re.compile(pattern, flags), from the cached program when there is one."""
        flags = int(flags)  # as re.compile does: flag arithmetic on the enum is slow
        if self.path is None:
            return re.compile(pattern, flags)
        program = self.programs.get((pattern, flags))
        try:
            if program is None:
                parsed = _parser.parse(pattern, flags)  # a bad pattern raises re.error, as re.compile would
                program = _Program(pattern, flags, flags | parsed.state.flags,
                                   np.asarray(_compiler._code(parsed, flags), dtype=np.uint32),
                                   parsed.state.groups - 1, dict(parsed.state.groupdict))
                self.programs[pattern, flags] = program
                self.changed = True
            return _build(program)
        except re.error:
            raise
        except Exception:  # noqa: BLE001 - an interpreter whose compiler differs: stop caching, compile normally
            self.path, self.programs = None, {}
            return re.compile(pattern, flags)

    def requirement(self, source: str, compute) -> Requirement:
        requirement = self.requirements.get(source)
        if requirement is None:
            requirement = self.requirements[source] = compute(source)
            self.changed = self.path is not None
        return requirement

    def save(self) -> None:
        """Write the cache if it gained entries; a failure to write only costs speed next time."""
        with self.lock:
            if not self.changed or self.path is None:
                return
            self.changed = False
            snapshot = list(self.programs.values())
            requirements = dict(self.requirements)
        codes, programs, offset = [], [], 0
        for program in snapshot:
            codes.append(program.code)
            programs.append([program.pattern, program.requested_flags, program.flags, offset,
                             offset + len(program.code), program.groups, program.groupindex])
            offset += len(program.code)
        meta = {"format": _FORMAT, "prefilter": _prefilter_version(), "programs": programs,
                "requirements": {s: _requirement_to_json(r) for s, r in requirements.items()}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path, "wb", durable=False) as stream:
                np.savez(stream, code=np.concatenate(codes) if codes else np.zeros(0, dtype=np.uint32),
                         meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def _prefilter_version() -> str:
    """A digest of what a requirement is computed from besides its regex: the prefilter's own source and the
    words the party macros stand for. Stored requirements are reused only when both are the same."""
    from .rules import macro_words

    try:
        source = Path(prefilter.__file__).read_bytes()
    except (OSError, TypeError):
        return "unknown"
    words = json.dumps({macro: sorted(words) for macro, words in sorted(macro_words().items())})
    return hashlib.sha256(source + words.encode("utf-8")).hexdigest()


def _requirement_to_json(requirement: Requirement) -> list:
    return [requirement.ordered, requirement.selective, [_requirement_to_json(b) for b in requirement.alternatives]]


def _requirement_from_json(stored: list) -> Requirement:
    ordered, selective, alternatives = stored
    return Requirement(ordered=tuple(tuple(group) for group in ordered),
                       selective=tuple(tuple(group) for group in selective),
                       alternatives=tuple(_requirement_from_json(branch) for branch in alternatives))


def _build(program: _Program) -> re.Pattern:
    indexgroup = [None] * (program.groups + 1)
    for name, index in program.groupindex.items():
        indexgroup[index] = name
    return _sre.compile(program.pattern, program.flags, program.code.tolist(), program.groups, program.groupindex,
                        tuple(indexgroup))
