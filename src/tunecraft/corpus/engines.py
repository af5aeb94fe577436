"""Engines that run :func:`~tunecraft.corpus.worker.process_unit` over many units.

* ``local`` (default): a ``ProcessPoolExecutor`` of ``workers`` processes (default: one per
  core). Workers are forked where that is safe (POSIX, and the caller runs no other threads),
  else spawned (then a calling script needs the usual ``if __name__ == "__main__":`` guard).
  A single unit, or ``workers=1``, runs in the calling process.
* ``ray``: the same function as Ray tasks (one CPU each). With ``RAY_ADDRESS`` set, the tasks
  run on that cluster, and each task is sent its file's bytes, so the workers need no shared
  filesystem (they need tunecraft installed); otherwise a local Ray is started for the run
  (``num_cpus=workers``, no dashboard) and stopped after it.

Each yields ``(index, result)`` as units finish, in completion order.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .sources import Unit
from .worker import base_entry, process_unit

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")


def check_engine(engine: str, workers: int | None) -> int:
    """Validate the engine and return the worker count to use."""
    if engine not in ENGINES:
        raise ParameterError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if workers is None:
        return max(os.cpu_count() or 1, 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a whole number of at least 1, not {workers!r}")
    return workers


def _crashed(unit: Unit, exc: BaseException) -> dict[str, Any]:
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return {**base_entry(unit), "status": "failed",
            "reason": f"the worker reading it stopped unexpectedly ({text})"}


def run_units(units: list[Unit], *, engine: str, workers: int) -> Iterator[tuple[int, dict]]:
    if not units:
        return
    if engine == "ray":
        yield from _run_ray(units, workers)
    elif workers == 1 or len(units) == 1:
        for i, u in enumerate(units):
            yield i, process_unit(u)
    else:
        yield from _run_pool(units, workers)


def _run_pool(units: list[Unit], workers: int) -> Iterator[tuple[int, dict]]:
    import multiprocessing
    import threading
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    methods = multiprocessing.get_all_start_methods()
    safe_fork = "fork" in methods and threading.active_count() == 1
    ctx = multiprocessing.get_context("fork" if safe_fork else "spawn")
    n = min(workers, len(units))
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    try:
        # A bounded window keeps memory flat on huge corpora (units may carry their text).
        window = 8 * n
        todo = iter(enumerate(units))
        pending: dict[Any, int] = {}

        def fill() -> None:
            while len(pending) < window:
                nxt = next(todo, None)
                if nxt is None:
                    return
                pending[pool.submit(process_unit, nxt[1])] = nxt[0]

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as exc:  # BrokenProcessPool: a worker died (out of memory...)
                    result = _crashed(units[i], exc)
                yield i, result
            try:
                fill()
            except RuntimeError:  # the pool is broken: the rest fail with the reason
                for j, u in todo:
                    yield j, _crashed(u, RuntimeError("the process pool broke"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ship(unit: Unit) -> Unit:
    """The unit with its file's bytes inside, for a worker that may not see our disks."""
    if unit.data is not None or unit.path is None or unit.status is not None:
        return unit
    return dataclasses.replace(unit, data=Path(unit.path).read_bytes())


def _run_ray(units: list[Unit], workers: int) -> Iterator[tuple[int, dict]]:
    try:
        import ray
    except ImportError:
        raise ParameterError("engine 'ray' needs Ray installed (pip install "
                             "'tunecraft[scale]')") from None
    started = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address:
            log.info("connecting to the Ray cluster at %s", address)
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(process_unit)
        cpus = max(int(ray.cluster_resources().get("CPU", workers)), 1)
        window = 4 * cpus
        todo = iter(enumerate(units))
        pending: dict[Any, int] = {}

        def fill() -> Iterator[tuple[int, dict]]:
            while len(pending) < window:
                nxt = next(todo, None)
                if nxt is None:
                    return
                i, u = nxt
                try:
                    shipped = _ship(u)
                except OSError as exc:
                    yield i, {**base_entry(u), "status": "failed",
                              "reason": f"cannot be read ({exc.strerror or exc})"}
                    continue
                pending[remote.remote(shipped)] = i

        yield from fill()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # a worker crashed or the cluster lost a node
                    result = _crashed(units[i], exc)
                yield i, result
            yield from fill()
    finally:
        if started:
            ray.shutdown()
