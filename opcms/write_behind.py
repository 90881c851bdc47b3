"""Bulk writes sent to PostgreSQL from a second thread while the caller computes the next batch.

A bulk job alternates Python work (pricing a bill, formatting a row) with PostgreSQL work
(inserting rows, maintaining indexes, firing triggers). On one connection the two wait for
each other: the process idles while the server inserts and the server idles while the
process prices. `WriteBehind` runs the writes, in the order they were submitted, on one
background thread using the *same* connection and therefore the same transaction; the
caller goes on computing meanwhile. The thread waits on the socket with the GIL released,
so on a machine with two cores the server's work and the process's overlap.

While the block runs, the interpreter's thread switch interval is cut from 5 ms to 0.5 ms:
each time the socket can take more of a COPY the writer needs the GIL back for a moment,
and waiting up to 5 ms for it while the caller computes halved the writer's speed (a chunk
of 10,000 bills took 0.67 s instead of 0.31 s). The interval is restored on leaving.

Rules for a caller:
- Submitted functions receive a psycopg cursor of the current connection and must use only
  it: Django's `connection` is per thread, so in the writer thread it would be another
  connection outside the transaction. A function that opens one fails with RuntimeError
  (and that connection is closed).
- The caller may still use the database meanwhile (psycopg serialises statements on a
  connection), but every such statement waits for the write in progress.
- Leaving the block waits for every submitted write; the first write that failed raises its
  own exception in the caller (at the next `submit` or on leaving), and no later write
  runs. An exception in the caller's block cancels the writes not yet started and waits for
  the running one, so the transaction is rolled back with no statement still in flight.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, connections

SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


class WriteBehind:
    """`with WriteBehind() as writes: writes.submit(fn, *args)` runs `fn(cursor, *args)`
    in order on a background thread, on this thread's database connection."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []
        self._raw: Any = None
        self._failed = False  # a write failed: the ones queued after it do not run
        self._switch_interval: float | None = None

    def __enter__(self) -> WriteBehind:
        connection.ensure_connection()
        self._raw = connection.connection
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        return self

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._raise_failed()
        assert self._pool is not None, "submit() outside the with block"
        self._pending.append(self._pool.submit(self._run, fn, args))

    def _run(self, fn: Callable[..., Any], args: tuple) -> Any:
        if self._failed:
            return None
        try:
            with self._raw.cursor() as cursor:
                result = fn(cursor, *args)
            if connections["default"].connection is not None:  # this thread's own connection
                connections.close_all()
                raise RuntimeError(
                    f"{fn!r} used Django's connection on the write-behind thread: outside the "
                    "caller's transaction; use the cursor it is given"
                )
            return result
        except BaseException:
            self._failed = True
            raise

    def _raise_failed(self) -> None:
        """Raise the first failed write's exception; forget the writes that are done."""
        while self._pending and self._pending[0].done():
            future = self._pending.pop(0)
            error = future.exception()
            if error is not None:
                self._cancel()
                raise error

    def _cancel(self) -> None:
        for future in self._pending:
            future.cancel()
        assert self._pool is not None
        self._pool.shutdown(wait=True)  # the write in progress ends before anything else runs
        self._pending.clear()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                self._cancel()
                return
            for future in self._pending:
                error = future.exception()  # waits
                if error is not None:
                    self._cancel()
                    raise error
        finally:
            assert self._pool is not None
            self._pool.shutdown(wait=True)
            self._pending.clear()
            if self._switch_interval is not None:
                sys.setswitchinterval(self._switch_interval)
