"""The auditor: trusted keys, a policy and an instant, applied to a stream of stored tokens.

Parallelism is processes: much of a token's cost is Python (parsing, claims, policy),
which threads would run one at a time. The keys travel to each worker once, as PEM text
and settings, and are parsed once per worker process, when it starts. Work goes out in
chunks with a bounded number in flight, and results come back in source order, so memory
stays flat whatever the size of the store.
"""

from __future__ import annotations

import fcntl
import itertools
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import multiprocessing.resource_tracker
import multiprocessing.util
import os
import queue
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Container, Iterable, Iterator, Sequence
from datetime import datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import msgspec

from .._policy import Policy
from .._registry import KeyRegistry
from .._times import from_epoch
from .._token import DEFAULT_MAX_TOKEN_SIZE
from .._verifier import Verifier
from ._record import AuditRecord, check_many, check_one, iso_utc
from ._signals import sigint_held
from ._sources import FaultHandler, Item, Source, SourceProblem, iter_items, parse_sources

if TYPE_CHECKING:
    from .._revocation import Revocation, RevocationList
    from ._inventory import Inventory

__all__ = ["At", "Auditor", "WorkerCrashed", "default_workers"]

#: When to judge: ``"now"`` (fixed when the :class:`Auditor` is made), ``"issued"`` (each
#: checkout at its own issuedAt), an aware datetime, or epoch seconds.
At = Literal["now", "issued"] | datetime | float
#: Items per task sent to a worker: ~5-15 ms of work, so the per-task cost is noise.
DEFAULT_CHUNK_SIZE = 128
#: Below this many tokens a process pool costs more to start than it saves.
MIN_PARALLEL_ITEMS = 1024
#: Items one process verifies together (Verifier.verify_each) when it audits alone.
_LOCAL_CHUNK = 32


class WorkerCrashed(RuntimeError):
    """A worker process died (killed, or out of memory); results before it stand."""


class _KeySpec(NamedTuple):
    fingerprint: str
    public_pem: str
    algorithms: tuple[str, ...]
    not_before: datetime | None
    not_after: datetime | None
    label: str | None
    key_id: str | None


class _Trust(NamedTuple):
    """Everything a worker needs to verify, as plain picklable (and hashable) data."""

    keys: tuple[_KeySpec, ...]
    policy: Policy  # immutable, hashable and picklable as it is
    at: float | Literal["issued"]
    max_token_size: int
    revocations: tuple[Revocation, ...] = ()  # applied after the signature, as in verify


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Auditor:
    """Audits stored checkouts against trusted keys and a policy, at one instant.

    >>> auditor = Auditor("keys.json", tv.Policy(node_id="node-7"), at="issued")
    >>> for record in auditor.run(["store/", "sqlite:///c.db?table=checkouts&column=response"]):
    ...     print(record.source, record.ok, record.reason)

    ``keys`` is a :class:`~tokenverify.KeyRegistry` or the path of a keys file. ``at`` is
    ``"now"`` (the moment the auditor is made, so that a long audit judges every token
    at the same instant), ``"issued"`` (was each checkout valid when it was issued:
    signature, node, entitlements and envelope checked, expiry judged at its issuedAt),
    an aware datetime, or epoch seconds. An Auditor pickles (for Dask) as plain data.

    With more than one worker, worker processes start from a fresh interpreter
    (forkserver or spawn), which imports the calling script's main module again: a script
    must keep its work under ``if __name__ == "__main__":``, as with any process pool.
    """

    def __init__(
        self,
        keys: KeyRegistry | str | os.PathLike[str],
        policy: Policy | None = None,
        *,
        at: At = "now",
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        revocations: RevocationList | str | os.PathLike[str] | None = None,
    ) -> None:
        registry = keys if isinstance(keys, KeyRegistry) else KeyRegistry.load(keys)
        #: (path, SHA-256) of the revocations file, when one was given by name.
        self.revocations_file: tuple[str, str] | None = None
        revoked: RevocationList | None = None
        if isinstance(revocations, str | os.PathLike):
            from .._files import file_sha256
            from .._revocation import RevocationList as Revocations

            path = os.fspath(revocations)
            revoked = Revocations.load(path)
            self.revocations_file = (path, file_sha256(path))
        elif revocations is not None:
            revoked = revocations
        policy = policy if policy is not None else Policy()
        # The verifier checks its arguments; build it now so a bad one fails here.
        self._verifier: Verifier | None = Verifier(
            registry, policy, max_token_size=max_token_size, revocations=revoked
        )
        self._trust = _Trust(
            tuple(
                _KeySpec(
                    key.fingerprint,
                    key.public_pem(),
                    tuple(sorted(key.algorithms)),
                    key.not_before,
                    key.not_after,
                    key.label,
                    key.key_id,
                )
                for key in registry
            ),
            policy,
            _resolve_at(at),
            max_token_size,
            revoked.entries if revoked is not None else (),
        )

    @property
    def at(self) -> float | Literal["issued"]:
        """The instant every token is judged at (epoch seconds), or ``"issued"``."""
        return self._trust.at

    @property
    def registry(self) -> KeyRegistry:
        """The trusted keys."""
        return self._local_verifier().registry

    @property
    def policy(self) -> Policy:
        """The policy every token is checked against."""
        return self._trust.policy

    @property
    def revocations(self) -> tuple[Revocation, ...]:
        """The revocation list's entries (empty without one)."""
        return self._trust.revocations

    @property
    def max_token_size(self) -> int:
        """The verifier's token size limit (sources cut longer lines just past it)."""
        return self._trust.max_token_size

    def check(self, source: str, payload: object) -> AuditRecord:
        """Audit one token in this process: a saved response (bytes, str or dict) or a
        compact token, under the id ``source``."""
        if type(payload) is SourceProblem:
            return _problem_record(source, payload)
        return check_one(self._local_verifier(), source, payload, self._trust.at)

    def run(
        self,
        sources: Sequence[str | os.PathLike[str] | Source],
        *,
        workers: int | None = None,
        skip: Container[str] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        on_fault: FaultHandler | None = None,
        exclude: Iterable[str] = (),
        inventory: Inventory | None = None,
    ) -> Iterator[AuditRecord]:
        """Audit every token of ``sources`` (see :mod:`tokenverify.audit`), in source order.

        Sources are checked now (:class:`SourceError`); tokens are read as the returned
        iterator is consumed. ``workers``: processes (default: one per CPU; 1 audits in
        this process). ``skip``: ids not to audit again (``--resume``). ``on_fault``:
        where what cannot be read goes (default: it is a ``malformed`` rejection).
        ``exclude``: files never read (the audit's own output). ``inventory``: counts
        items per source and skips files that are not checkouts (see
        :mod:`tokenverify.audit._inventory`); without one every file is a token.
        """
        parsed = parse_sources(sources)
        items = iter_items(
            parsed,
            max_token_size=self._trust.max_token_size,
            on_fault=on_fault,
            exclude=exclude,
            inventory=inventory,
        )
        return self.run_items(items, workers=workers, skip=skip, chunk_size=chunk_size)

    def run_items(
        self,
        items: Iterable[tuple[str, Any]],
        *,
        workers: int | None = None,
        skip: Container[str] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[AuditRecord]:
        """Audit ``(id, payload)`` pairs from any store, in order. Payloads must pickle
        (bytes, str, dicts of str) when ``workers`` is more than 1."""
        if workers is None:
            workers = default_workers()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError("workers is a whole number of processes, at least 1")
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        stream: Iterator[tuple[str, Any]] = iter(items)
        if skip is not None:
            stream = (item for item in stream if item[0] not in skip)
        return self._run(stream, workers, chunk_size)

    def _run(
        self, stream: Iterator[tuple[str, Any]], workers: int, chunk_size: int
    ) -> Iterator[AuditRecord]:
        verifier, at = self._local_verifier(), self._trust.at
        if workers > 1:
            first = list(itertools.islice(stream, MIN_PARALLEL_ITEMS))
            if len(first) == MIN_PARALLEL_ITEMS:
                yield from _pool_run(
                    self._trust, itertools.chain(first, stream), workers, chunk_size
                )
                return
            stream = iter(first)
        # A few items at a time, verified together (Verifier.verify_each): records still
        # come out in source order, each as soon as its few are done.
        for chunk in _chunked(stream, _LOCAL_CHUNK):
            yield from _check_chunk(verifier, chunk, at)

    def _local_verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = verifier_for(self._trust)
        return self._verifier

    def __getstate__(self) -> dict[str, Any]:
        return {"trust": self._trust}

    def __dask_tokenize__(self) -> object:
        # Plain data: equal auditors give equal Dask task names.
        return ("tokenverify.audit.Auditor", self._trust)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._trust = state["trust"]
        self._verifier = None
        self.revocations_file = None

    def __repr__(self) -> str:
        at = self.at if self.at == "issued" else iso_utc(from_epoch(self.at))
        return f"<Auditor {len(self._trust.keys)} keys, at {at}>"


def _resolve_at(at: At | None) -> float | Literal["issued"]:
    if at is None or at == "now":
        return time.time()
    if at == "issued":
        return "issued"
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware (e.g. datetime.now(UTC))")
        return at.timestamp()
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise TypeError("at is 'now', 'issued', an aware datetime or epoch seconds")
    return float(at)


# -- worker side -----------------------------------------------------------------------

_ENCODE_RECORDS = msgspec.msgpack.Encoder().encode
_DECODE_RECORDS = msgspec.msgpack.Decoder(list[AuditRecord]).decode

#: One verifier per trust per process: Dask tasks and pool workers parse keys once.
_VERIFIERS: dict[_Trust, Verifier] = {}


def verifier_for(trust: _Trust) -> Verifier:
    """The verifier for ``trust`` in this process, built (keys parsed) on first use."""
    verifier = _VERIFIERS.get(trust)
    if verifier is None:
        registry = KeyRegistry()
        for key in trust.keys:
            registry.add(
                key.fingerprint,
                key.public_pem,
                algorithms=key.algorithms,
                not_before=key.not_before,
                not_after=key.not_after,
                label=key.label,
                key_id=key.key_id,
            )
        policy = trust.policy
        revocations = None
        if trust.revocations:
            from .._revocation import RevocationList

            revocations = RevocationList(trust.revocations)
        verifier = Verifier(
            registry, policy, max_token_size=trust.max_token_size, revocations=revocations
        )
        _VERIFIERS[trust] = verifier
    return verifier


def check_items(trust: _Trust, items: Iterable[Item]) -> list[AuditRecord]:
    """Audit ``items`` with the (cached) verifier of ``trust``: a Dask partition's task,
    a pool worker's chunk."""
    return _check_chunk(verifier_for(trust), list(items), trust.at)


def _check_chunk(
    verifier: Verifier, items: list[tuple[str, Any]], at: float | str
) -> list[AuditRecord]:
    """The records of ``items``, in order; the tokens among them verified together."""
    tokens = [item for item in items if type(item[1]) is not SourceProblem]
    verified = iter(check_many(verifier, tokens, at))  # type: ignore[arg-type]
    return [
        next(verified) if type(payload) is not SourceProblem else _problem_record(source, payload)
        for source, payload in items
    ]


def _problem_record(source: str, problem: SourceProblem) -> AuditRecord:
    return AuditRecord(
        source, False, problem.reason, None, None, None, None, None, None, problem.message
    )


def _worker_main(connection: Connection, trust: _Trust) -> None:
    """A pool worker: verify each chunk the parent sends, send back its records."""
    # Ctrl-C reaches the whole process group: the parent stops the audit cleanly, and
    # workers must not die mid-chunk with a traceback of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    verifier_for(trust)  # keys parsed once, before the first chunk
    # A reader thread keeps the parent's sends flowing while this thread verifies or
    # waits to send results: neither side can then block the other (no deadlock, however
    # large a chunk). End of input (the parent closed its end, or died) ends the worker.
    inbox: queue.SimpleQueue[list[tuple[str, Any]] | None] = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                inbox.put(connection.recv())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=read, name="tokenverify-audit-reader", daemon=True).start()
    while (chunk := inbox.get()) is not None:
        try:
            # msgpack, not pickle, carries results home: half the parent's cost per
            # record (measured), and the parent's time is what limits scaling.
            connection.send_bytes(_ENCODE_RECORDS(check_items(trust, chunk)))
        except OSError:  # the parent is gone
            return


# -- parent side -----------------------------------------------------------------------


def _pool_context() -> multiprocessing.context.BaseContext:
    # forkserver: workers fork from a clean server process, never from this one (whose
    # threads, e.g. a progress display, must not be forked); spawn where there is none.
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tokenverify.audit._engine"])
        return context
    return multiprocessing.get_context("spawn")


_POOL_FOLDER_PREFIX = "tokenverify-pool-"
_pool_folder_lock: list[int] = []  # the descriptor that marks our pool folder as alive


def _claim_pool_folder() -> None:
    """Give multiprocessing a temporary folder that a later audit can tell is stale.

    multiprocessing keeps the forkserver's socket in a ``pymp-*`` folder that only a
    clean exit removes: every killed audit left one behind. Ours holds a lock file,
    locked for as long as this process lives; the next audit removes every such folder
    whose lock nobody holds.
    """
    config = getattr(multiprocessing.process.current_process(), "_config", None)
    if not isinstance(config, dict) or config.get("tempdir") is not None:
        return  # multiprocessing has its folder already
    _remove_stale_pool_folders()
    folder = tempfile.mkdtemp(prefix=_POOL_FOLDER_PREFIX)
    descriptor = os.open(
        os.path.join(folder, "lock"), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
    )
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _pool_folder_lock.append(descriptor)
    config["tempdir"] = folder
    multiprocessing.util.Finalize(
        None, shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True}, exitpriority=-100
    )


def _remove_stale_pool_folders() -> None:
    root = tempfile.gettempdir()
    try:
        names = [name for name in os.listdir(root) if name.startswith(_POOL_FOLDER_PREFIX)]
    except OSError:
        return
    for name in names:
        folder = os.path.join(root, name)
        try:
            status = os.stat(folder, follow_symlinks=False)
            if status.st_uid != os.geteuid() or not os.path.isdir(folder) or os.path.islink(folder):
                continue
            descriptor = os.open(
                os.path.join(folder, "lock"), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
            )
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live audit holds it
        finally:
            os.close(descriptor)
        shutil.rmtree(folder, ignore_errors=True)


def _chunked(items: Iterator[tuple[str, Any]], size: int) -> Iterator[list[tuple[str, Any]]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


_CRASHED = (
    "a worker process died (killed, or out of memory); every result before it was "
    "delivered in order"
)


class _Worker:
    """One worker process, its end of the pipe, and the chunks it owes (in order)."""

    __slots__ = ("connection", "owed", "process")

    def __init__(self, process: multiprocessing.process.BaseProcess, connection: Connection):
        self.process = process
        self.connection = connection
        self.owed: deque[int] = deque()


def _pool_run(
    trust: _Trust, items: Iterator[tuple[str, Any]], workers: int, chunk_size: int
) -> Iterator[AuditRecord]:
    # No executor: a ProcessPoolExecutor's feeder and manager threads fight this thread
    # for the GIL and left the workers idle half the time (measured: two workers slower
    # than one). Here this thread alone sends chunks and reads results, waiting on the
    # pipes and the workers' sentinels together.
    context = _pool_context()
    pool: list[_Worker] = []
    chunks = enumerate(_chunked(items, chunk_size))
    results: dict[int, bytes] = {}  # arrived ahead of their turn
    window = 4 * workers  # chunks in flight or waiting: bounds memory
    state = {"next": 0, "sent": 0, "exhausted": False}

    def feed(worker: _Worker) -> None:
        while (
            len(worker.owed) < 2  # one being verified, one ready behind it
            and not state["exhausted"]
            and state["sent"] < state["next"] + window
        ):
            item = next(chunks, None)
            if item is None:
                state["exhausted"] = True
                return
            index, chunk = item
            try:
                worker.connection.send(chunk)
            except OSError:  # EPIPE: it died before we noticed
                raise WorkerCrashed(_CRASHED) from None
            worker.owed.append(index)
            state["sent"] += 1

    try:
        # Started first, on its own terms: its start unblocks SIGINT again.
        multiprocessing.resource_tracker.ensure_running()
        # Processes started meanwhile inherit the blocked signal, so a Ctrl-C during
        # start-up cannot interrupt the forkserver or a worker half-way through importing
        # (a 25-line traceback each); the parent gets it once the pool is up.
        with sigint_held():
            _claim_pool_folder()
            for _ in range(workers):
                ours, theirs = context.Pipe(duplex=True)
                process = context.Process(  # type: ignore[attr-defined]
                    target=_worker_main,
                    args=(theirs, trust),
                    name="tokenverify-audit-worker",
                    daemon=True,
                )
                process.start()
                theirs.close()
                pool.append(_Worker(process, ours))
        by_connection = {worker.connection: worker for worker in pool}
        by_sentinel = {worker.process.sentinel: worker for worker in pool}
        while True:
            for worker in pool:
                feed(worker)
            while state["next"] in results:
                yield from _DECODE_RECORDS(results.pop(state["next"]))
                state["next"] += 1
            if state["exhausted"] and not any(worker.owed for worker in pool):
                return
            for ready in multiprocessing.connection.wait([*by_connection, *by_sentinel]):
                worker = by_connection.get(ready)  # type: ignore[call-overload]
                if worker is None:
                    worker = by_sentinel[ready]  # type: ignore[index]
                    if worker.owed and not worker.connection.poll():
                        raise WorkerCrashed(_CRASHED)
                    continue
                try:
                    data = worker.connection.recv_bytes()
                except (EOFError, OSError):
                    raise WorkerCrashed(_CRASHED) from None
                results[worker.owed.popleft()] = data
    finally:
        _stop(pool)


def _stop(pool: list[_Worker]) -> None:
    """Close every pipe (a worker leaves at end of input), then make sure they are gone."""
    for worker in pool:
        worker.connection.close()
    deadline = time.monotonic() + 5
    for worker in pool:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():  # stuck in a pathological token: do not wait
            worker.process.kill()
            worker.process.join()
