"""Batch scans of tender archives: folders and ZIP archives in, a SQLite results store and exports out.

    from contract_audit.batch import BatchOptions, run_batch
    summary = run_batch(["archive/"], BatchOptions(out=Path("out")))

Kept light: the worker processes import this package, and must not pay for Dask or the exports.
"""
from __future__ import annotations

__all__ = ["BatchOptions", "BatchSummary", "run_batch"]


def __getattr__(name):
    if name in __all__:
        from . import scan

        return getattr(scan, name)
    raise AttributeError(name)
