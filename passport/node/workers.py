"""The call workers: processes that run ``eth_call`` and ``eth_estimateGas`` (see
:mod:`passport.node.calls`), each on a pipe of its own, and the pool that hands them work.

A pipe of its own rather than a ``multiprocessing.Pool``: a pool's workers share a queue guarded
by a lock, which a worker killed while waiting for work (out of memory, kill -9) never releases;
the pool's replacement worker then never gets a call, and terminating the pool hangs. Here a
worker killed while idle is started afresh on the next call to it, and one killed during a call
fails that call at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import multiprocessing
import pickle
import threading
import time
from pathlib import Path
from typing import Any, cast

from passport.exceptions import NodeError
from passport.node.calls import CallRequest, Outcome, _execute, _execute_many, _init_worker

GRACE_SECONDS = 5.0  # past the deadline, a silent worker is presumed stuck and replaced
START_SECONDS = 120.0  # a worker's start-up: an interpreter, py-evm and the store opened
STOP_SECONDS = 5.0


class WorkerLost(NodeError):
    """A call worker exited (killed, or out of memory) before it answered; ``how`` says how it
    ended."""

    def __init__(self, how: str) -> None:
        self.how = how
        super().__init__(how)


def _serve(connection: Any, store_path: str, chain_id: int) -> None:
    """A call worker's loop: ``(function, argument)`` in, ``("ok", result)`` or ``("error",
    exception)`` out, over a pipe of its own. It ends when the node closes the pipe (the node
    stopped, or died: its end of the pipe is in no other process)."""
    try:
        _init_worker(store_path, chain_id)
    except Exception as exc:  # the node raises it
        with contextlib.suppress(OSError):
            connection.send(("error", RuntimeError(f"the call worker could not start: {exc}")))
        return
    answer: tuple[str, Any] = ("ok", True)
    while True:
        try:
            try:
                connection.send(answer)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an answer that does not pickle
                connection.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            function, argument = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = ("ok", function(argument))
        except Exception as exc:
            answer = ("error", exc)


class _Worker:
    """One call worker process and the pipe to it. Its pool sends it one unit of work at a time."""

    def __init__(self, store_path: str, chain_id: int) -> None:
        # spawn, not fork: the node's threads and its LMDB environment must not be copied
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(theirs, store_path, chain_id), name="passport-call-worker", daemon=True
        )
        self.process.start()
        theirs.close()
        self.connection = ours
        try:
            self.answer(START_SECONDS)
        except BaseException:  # it could not start: nothing of it is left behind
            self.stop()
            raise

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive() and not self.connection.closed

    def send(self, function: Any, argument: Any) -> None:
        """Raises WorkerLost: the worker exited."""
        try:
            self.connection.send((function, argument))
        except OSError:
            raise WorkerLost(self.stop()) from None

    def answer(self, timeout: float) -> Any:
        """The result of the work sent, or the exception it raised.

        Raises:
            TimeoutError: no answer within ``timeout`` seconds (the worker is then stopped).
            WorkerLost: the worker exited.
        """
        try:
            ready = self.connection.poll(timeout)
            if ready:
                kind, value = self.connection.recv()
        except (EOFError, OSError):
            raise WorkerLost(self.stop()) from None
        if not ready:
            self.stop()
            raise TimeoutError
        if kind == "error":
            raise value
        return value

    def stop(self) -> str:
        """Stop the worker (SIGTERM, then SIGKILL) and close its pipe; says how it ended."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_SECONDS)
            if self.process.is_alive():
                self.process.kill()
        self.process.join(STOP_SECONDS)
        self.connection.close()
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"call worker {self.process.pid} was killed by signal {-code}"
        return f"call worker {self.process.pid} exited with code {code}"


class CallPool:
    """Worker processes for calls; started on first use, stopped with the node.

    Each worker serves one unit of work at a time (its slot), so a batch's calls can go to the
    same worker every time: the k-th unit of a batch to worker k. A worker keeps the state of
    the calls it ran (:class:`_BlockState`), so the same batch asked again (the next request
    for the same passport) finds its reads where it left them rather than on the other worker.
    A worker that exits is started afresh on next use; one that overruns a deadline is stopped.
    """

    def __init__(self, store_path: Path, chain_id: int, workers: int) -> None:
        self._store_path = str(store_path)
        self._chain_id = chain_id
        count = max(1, workers)
        self._workers: list[_Worker | None] = [None] * count
        self._slots = [threading.Lock() for _ in range(count)]  # held while a worker works
        self._turn = itertools.count()  # single calls go round the workers
        self._lock = threading.Lock()
        self._closed = False

    @property
    def worker_pids(self) -> list[int]:
        """The pids of the workers running."""
        return [w.pid for w in self._workers if w is not None and w.pid is not None and w.alive()]

    def _get(self, index: int) -> tuple[_Worker, float]:
        """Worker ``index`` (started if it is not running) and the seconds its start took; call
        with its slot held."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the node is stopping")
            worker = self._workers[index]
        if worker is not None and worker.alive():
            return worker, 0.0
        started = time.monotonic()
        worker = _Worker(self._store_path, self._chain_id)
        with self._lock:
            if self._closed:
                worker.stop()
                raise RuntimeError("the node is stopping")
            self._workers[index] = worker
        return worker, time.monotonic() - started

    def _drop(self, index: int, worker: _Worker) -> None:
        with self._lock:
            if self._workers[index] is worker:
                self._workers[index] = None

    def run(self, request: CallRequest) -> Outcome:
        """One call on the next worker; its deadline counts from now (waiting for the worker
        included, its start-up not)."""
        index = next(self._turn) % len(self._slots)
        arrived = time.monotonic()
        slot = self._slots[index]
        if not slot.acquire(timeout=request.timeout):
            return Outcome("timeout")
        try:
            worker, starting = self._get(index)
            request = dataclasses.replace(request, deadline=arrived + starting + request.timeout)
            sent = self._send(index, worker, _execute, request)
            if isinstance(sent, Outcome):
                return sent
            return cast(
                Outcome, self._answer(index, worker, request.deadline - time.monotonic() + GRACE_SECONDS)
            )
        finally:
            slot.release()

    def _send(self, index: int, worker: _Worker, function: Any, argument: Any) -> _Worker | Outcome:
        """``worker``, having been sent the work; or, the worker having exited (it is dropped),
        the outcome of the work."""
        try:
            worker.send(function, argument)
            return worker
        except WorkerLost as exc:
            self._drop(index, worker)
            return Outcome("lost", exc.how)

    def _answer(self, index: int, worker: _Worker, timeout: float) -> Any:
        """What the work sent to ``worker`` returned; or, the worker having overrun ``timeout``
        or exited (it is dropped), the outcome of the work."""
        try:
            return worker.answer(timeout)
        except TimeoutError:
            self._drop(index, worker)
            return Outcome("timeout")
        except WorkerLost as exc:
            self._drop(index, worker)
            return Outcome("lost", exc.how)

    def run_many(self, requests: list[CallRequest]) -> list[Outcome]:
        """Many calls, in order: in one unit per worker (consecutive runs, so calls at one block
        stay together; the k-th unit always to worker k), each call's deadline counted from when
        its worker starts it."""
        if not requests:
            return []
        size = -(-len(requests) // len(self._slots))
        units = [requests[n : n + size] for n in range(0, len(requests), size)]
        budgets = [sum(r.timeout for r in unit) + GRACE_SECONDS for unit in units]
        arrived = time.monotonic()
        held: list[int] = []
        sent: dict[int, _Worker | Outcome] = {}
        out: list[Outcome] = []
        try:
            # slots in ascending order (as every caller takes them): no two batches wait on each other
            for index, budget in enumerate(budgets):
                if self._slots[index].acquire(timeout=max(0.0, arrived + budget - time.monotonic())):
                    held.append(index)
            for index in held:
                sent[index] = self._send(index, self._get(index)[0], _execute_many, units[index])
            started = time.monotonic()
            for index, (unit, budget) in enumerate(zip(units, budgets, strict=True)):
                got = sent.get(index, Outcome("timeout"))  # no slot within the budget
                if isinstance(got, _Worker):
                    got = self._answer(index, got, max(0.0, started + budget - time.monotonic()))
                out += got if isinstance(got, list) else [got] * len(unit)
            return out
        finally:
            for index in held:
                self._slots[index].release()

    def warm_up(self) -> None:
        """Start the workers now rather than on the first call."""

        def start() -> None:
            with contextlib.suppress(RuntimeError, WorkerLost, TimeoutError):  # the node stopped first
                for index, slot in enumerate(self._slots):
                    with slot:
                        self._get(index)

        threading.Thread(target=start, name="passport-call-pool", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, [None] * len(self._workers)
        for worker in workers:
            if worker is not None:
                worker.stop()
