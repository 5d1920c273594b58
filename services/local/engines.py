"""Local engines shared by every session: each model loads once per process, and its
heavy calls run on a bounded pool of worker threads, never on the event loop.

The event loop carries every session's audio; a 400 ms Whisper decode or a token loop
run there would stall them all. Engines release the GIL in native code, so threads are
enough. Each pool runs at most `workers` calls at once and queues at most `max_pending`
more (FIFO, so sessions take turns); beyond that a call fails fast as `RateLimited`
rather than piling up work nobody will wait for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from services.errors import RateLimited

T = TypeVar("T")


class EnginePool:
    def __init__(self, name: str, workers: int, max_pending: int = 32) -> None:
        self.name = name
        self.workers = workers
        self.max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"engine-{name}")
        self._lock = threading.Lock()
        self._outstanding = 0  # submitted calls not yet finished in their thread

    @property
    def idle(self) -> bool:
        """True when a call would start at once (used to skip optional work when busy)."""
        with self._lock:
            return self._outstanding < self.workers

    @property
    def outstanding(self) -> int:
        with self._lock:
            return self._outstanding

    async def run(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on a worker thread.

        Cancelling the caller does not interrupt a call that has started (native code
        cannot be interrupted); the pool counts it busy until it really ends.
        """
        with self._lock:
            if self._outstanding >= self.workers + self.max_pending:
                raise RateLimited(stage, f"local {self.name} engine is busy", retry_after_s=1.0)
            self._outstanding += 1

        def release(_: object) -> None:
            with self._lock:
                self._outstanding -= 1

        try:
            future = self._executor.submit(fn, *args)
        except RuntimeError:  # shut down
            release(None)
            raise
        future.add_done_callback(release)  # runs once it has finished, or was cancelled unstarted
        return await asyncio.wrap_future(future)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on a worker thread and wait for it (from a thread that is not the loop's).

        For warm-up: engines are driven from the pool's own threads only. Measured with
        llama.cpp (OpenMP): after a call from the main thread, calls from other threads
        decode at a third of the speed (33 instead of 100 tokens/s).
        """
        return self._executor.submit(fn, *args).result()


class SharedModel(Generic[T]):
    """A model loaded on first use, once per process, under a lock (thread-safe)."""

    def __init__(self, name: str, loader: Callable[[], T]) -> None:
        self.name = name
        self._loader = loader
        self._lock = threading.Lock()
        self._model: T | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> T:
        """The model, loading it now if needed; blocking, so call it from a worker thread."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._loader()
        return self._model


_pools: dict[str, EnginePool] = {}
_models: dict[tuple[str, str], SharedModel[Any]] = {}
_registry_lock = threading.Lock()


def engine_pool(name: str, workers: int, max_pending: int = 32) -> EnginePool:
    """The process-wide pool of one engine (its size is fixed by the first caller)."""
    with _registry_lock:
        if name not in _pools:
            _pools[name] = EnginePool(name, workers, max_pending)
        return _pools[name]


def shared_model(kind: str, key: str, loader: Callable[[], T]) -> SharedModel[T]:
    """The process-wide holder of the model `kind` loaded from `key` (a path or name)."""
    with _registry_lock:
        if (kind, key) not in _models:
            _models[(kind, key)] = SharedModel(f"{kind}:{key}", loader)
        holder: SharedModel[T] = _models[(kind, key)]
        return holder
