"""The same batch on a Dask cluster: chunks of tasks go to Dask workers, results come back to the driver,
which alone writes the results store (so the store needs no shared file system; the inputs do).

On each Dask worker thread the chunk is audited by a one-process LocalPool (runner.py), kept for the life
of the thread: the rules and model are loaded once per thread, and a file that hangs or exhausts memory
kills only that pool's worker process, exactly as in a local run.
"""
from __future__ import annotations

import threading
from typing import Iterator

from ..errors import AuditError
from .records import Outcome, Task, failed
from .runner import LocalPool
from .worker import WorkerConfig

_local = threading.local()


def audit_chunk(tasks: list[Task], config: WorkerConfig, timeout: float) -> list[Outcome]:
    """Runs on a Dask worker."""
    pool: LocalPool | None = getattr(_local, "pool", None)
    if pool is None or pool.config != config or pool.timeout != timeout:
        if pool is not None:
            pool.close()
        pool = _local.pool = LocalPool(1, config, timeout, chunk_size=len(tasks))
    return list(pool.run(tasks))


class DaskPool:
    """Same interface as LocalPool: start(), run(tasks) -> Outcomes in completion order, close()."""

    def __init__(self, config: WorkerConfig, timeout: float, chunk_size: int | None = None,
                 scheduler: str | None = None, local_workers: int | None = None):
        self.config = config
        self.timeout = timeout
        self.chunk_size = chunk_size
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.client = None
        self.cluster = None

    def start(self) -> None:
        if self.client is not None:
            return
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise AuditError("Dask is not installed: pip install 'contract-audit[dask]' (from a checkout: pip install '.[dask]')") from None
        try:
            if self.scheduler:
                self.client = Client(self.scheduler, timeout="30s")
            else:
                self.cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, host="127.0.0.1")
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise AuditError(f"cannot reach the Dask scheduler {self.scheduler or '(local)'}: {exc}") from None

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        from dask.distributed import as_completed

        self.start()
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        size = self.chunk_size or max(1, min(8, len(tasks) // (workers * 8)))
        chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        futures = {self.client.submit(audit_chunk, chunk, self.config, self.timeout, pure=False): chunk
                   for chunk in chunks}
        try:
            for future in as_completed(futures):
                try:
                    outcomes = future.result()
                except Exception as exc:  # the Dask worker itself died (KilledWorker) or the chunk was lost
                    outcomes = [failed(task, f"lost on the Dask cluster ({type(exc).__name__})") for task in futures[future]]
                yield from outcomes
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
