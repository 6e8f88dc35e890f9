"""A background thread that stores records in batches, off the caller's path.

Recording a call costs a database transaction, which against a fast service
is more than the call itself. The writer takes that transaction off the
calling thread: records queue in memory and a daemon thread stores those that
arrive within a few milliseconds of each other in one transaction, so under
load many records share a commit.

Nothing is dropped to keep up: when the queue is full, :meth:`submit` says so
and the caller stores the record itself. Queued records are flushed when the
interpreter exits; a process killed outright loses what it had queued, which
the ``patchbay`` logger has already seen.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.db import connections

logger = logging.getLogger("patchbay")

T = TypeVar("T")

# Seconds an idle writer keeps its database connection before closing it.
IDLE_CLOSE_SECONDS = 5.0


class _Stop(threading.Event):
    """Queued by :meth:`BackgroundWriter.stop`: store what came before, then end."""


class BackgroundWriter(Generic[T]):
    """Hands queued items to ``store`` in batches, from a daemon thread.

    The thread starts on the first :meth:`submit`, and again in a forked child
    (a preforking server's workers each get their own).
    """

    def __init__(
        self,
        store: Callable[[Sequence[T]], None],
        *,
        name: str,
        max_queued: int = 10_000,
        batch_size: int = 500,
        linger: float = 0.05,
    ) -> None:
        self._store = store
        self._linger = linger
        self._name = name
        self._max_queued = max_queued
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._queue: queue.Queue[T | threading.Event] = queue.Queue(max_queued)
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()  # ends the linger at once: someone waits
        self._pid = 0
        self._exit_hook_registered = False

    def submit(self, item: T) -> bool:
        """Queue ``item``; False when the queue is full and the caller must store it."""
        self._ensure_running()
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            return False
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is stored; False on timeout."""
        if not self.running:
            if self._queue.empty() or self._pid != os.getpid():
                return True
            self._ensure_running()  # items submitted while a stop ended the thread
        done = threading.Event()
        self._queue.put(done)
        self._wake.set()
        return done.wait(timeout)

    def stop(self, timeout: float | None = None) -> bool:
        """Store what is queued, close the thread's database connections and end it.

        Called at exit, so that nothing queued is lost and no connection is left
        open (a test database could not be dropped). A later :meth:`submit`
        starts a new thread. False if the thread did not end within ``timeout``.
        """
        thread = self._thread
        if thread is None or not self.running:
            return True
        self._queue.put(_Stop())
        self._wake.set()
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        """Whether this process's writer thread is alive."""
        return self._alive()

    def _alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def _ensure_running(self) -> None:
        if self._alive():
            return
        with self._lock:
            if self._alive():
                return
            if self._pid != os.getpid():
                # A forked child inherits the parent's queue (and perhaps a lock held
                # by the parent's writer mid-put): start afresh; the parent stores its own.
                self._queue = queue.Queue(self._max_queued)
                self._wake = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()
            if not self._exit_hook_registered:
                # Daemon threads still run while atexit hooks do, so a flush completes.
                atexit.register(self.stop, timeout=10.0)
                self._exit_hook_registered = True

    def _work(self) -> None:
        pending = self._queue  # this thread's queue, even if a fork replaces the attribute
        while True:
            try:
                first = pending.get(timeout=IDLE_CLOSE_SECONDS)
            except queue.Empty:
                connections.close_all()  # this thread's connections only
                continue
            batch, waiting = self._collect(pending, first)
            if batch:
                self._store_batch(batch)
            for event in waiting:
                event.set()
            if any(isinstance(event, _Stop) for event in waiting):
                connections.close_all()
                return

    def _collect(
        self, pending: queue.Queue[T | threading.Event], first: T | threading.Event
    ) -> tuple[list[T], list[threading.Event]]:
        """A batch starting with ``first``: what arrives within ``linger`` seconds.

        Waiting a little lets a busy process store many records in one commit.
        The thread sleeps through the wait rather than wake for every record
        (each wake-up would take the GIL from the callers); a flush ends it.
        """
        if not isinstance(first, threading.Event):
            self._wake.wait(self._linger)
        self._wake.clear()
        batch: list[T] = []
        waiting: list[threading.Event] = []
        item = first
        while True:
            if isinstance(item, threading.Event):
                waiting.append(item)
            else:
                batch.append(item)
            if len(batch) >= self._batch_size:
                break
            try:
                item = pending.get_nowait()
            except queue.Empty:
                break
        return batch, waiting

    def _store_batch(self, batch: Sequence[T]) -> None:
        # A connection that broke while idle (a database restart) fails the first
        # attempt: reconnect and try once more before giving the batch up.
        for attempt in (1, 2):
            try:
                self._store(batch)
            except Exception:
                connections.close_all()  # this thread's: the next attempt reconnects
                if attempt == 2:
                    logger.exception("%s could not store %d record(s)", self._name, len(batch))
            else:
                return
