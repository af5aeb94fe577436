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

:func:`map_ordered` runs any top-level function over a list on the same two engines and gives
the results in input order (the data preparation of ``train`` uses it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Iterator, Sequence
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


@contextlib.contextmanager
def ray_session(workers: int) -> Iterator[Any]:
    """The ``ray`` module, connected: to the cluster at ``RAY_ADDRESS`` when that is set, else
    to a local Ray started with ``workers`` CPUs. What it connected or started it stops after;
    a Ray the caller had already initialised is used as it is and left running."""
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
        yield ray
    finally:
        if started:
            ray.shutdown()


def _pool_context() -> Any:
    """fork where that is safe (POSIX, and no other Python thread runs), else spawn."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    safe_fork = "fork" in methods and threading.active_count() == 1
    return multiprocessing.get_context("fork" if safe_fork else "spawn")


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
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    n = min(workers, len(units))
    pool = ProcessPoolExecutor(max_workers=n, mp_context=_pool_context())
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
    with ray_session(workers) as ray:
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


# ----------------------------------------------------------------------------------------------
# Any function over a list, results in input order


def map_ordered(fn: Callable[[Any], Any], items: Sequence[Any], *, engine: str = "local",
                workers: int | None = None) -> list[Any]:
    """``[fn(x) for x in items]`` on an engine, in input order.

    ``fn`` must be a top-level (picklable) function, and ``items`` and the results picklable.
    ``local`` runs a process pool of ``workers`` processes (default: one per core; forked where
    that is safe); a single item, or ``workers=1``, runs in the calling process. ``ray`` runs
    one Ray task per item (one CPU each) on the cluster at ``RAY_ADDRESS``, or on a local Ray
    started for the call. An exception ``fn`` raises reaches the caller (it must pickle too).
    """
    n = check_engine(engine, workers)
    items = list(items)
    if not items:
        return []
    if engine == "ray":
        return _map_ray(fn, items, n)
    if n == 1 or len(items) == 1:
        return [fn(x) for x in items]
    from concurrent.futures import ProcessPoolExecutor

    n = min(n, len(items))
    chunk = max(1, len(items) // (8 * n))
    with ProcessPoolExecutor(max_workers=n, mp_context=_pool_context()) as pool:
        return list(pool.map(fn, items, chunksize=chunk))


def _map_ray(fn: Callable[[Any], Any], items: list[Any], workers: int) -> list[Any]:
    from collections import deque

    with ray_session(workers) as ray:
        remote = ray.remote(num_cpus=1, max_retries=1)(fn)
        cpus = max(int(ray.cluster_resources().get("CPU", workers)), 1)
        window = 8 * cpus  # tasks in flight: bounds what waits in the object store
        out: list[Any] = []
        pending: deque[Any] = deque()

        def take() -> None:
            ref = pending.popleft()
            try:
                out.append(ray.get(ref))
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, Exception):
                    raise cause from None
                raise

        for x in items:
            pending.append(remote.remote(x))
            if len(pending) >= window:
                take()
        while pending:
            take()
        return out
