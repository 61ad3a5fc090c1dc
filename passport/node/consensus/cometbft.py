"""The node as the ABCI 2.0 application of a CometBFT node (v0.38, socket transport).

CometBFT orders transactions and decides blocks; this application executes them with the node's
chain, one EVM block per CometBFT height:

- ``CheckTx``: the node's admission (signature, chain id, nonce, balance, intrinsic gas,
  Consortium permission) against a mirror of the pool, with the reason on refusal;
- ``PrepareProposal``: orders the mempool's transactions (each sender's by nonce), builds the
  block and proposes the transactions it kept; ``ProcessProposal``: strictly re-executes a
  proposal and rejects any invalid transaction;
- ``FinalizeBlock``: executes the decided block (EVM number = height, timestamp = the block
  time in seconds, at least the parent's + 1, coinbase = the proposer's member account) and
  answers the EVM block hash as ``app_hash``, so the CometBFT header of height H+1 binds EVM
  block H; the validator updates decided on-chain come back here;
- ``Commit``: one LMDB commit (block, receipts, state, indexes, and the acknowledgements the
  block settles); ``Info``: the EVM head, so CometBFT's handshake replays what a crash lost.

A built block is kept (uncommitted, in the store's overlay) from ``PrepareProposal`` or
``ProcessProposal`` to ``FinalizeBlock`` when the decided block is the one built, so each node
executes a block once in the common case.

``eth_sendRawTransaction`` persists the transaction, then hands it to CometBFT's mempool
(``broadcast_tx_sync``, which runs ``CheckTx``); its hash is returned only when both succeeded.
Acknowledged transactions are re-broadcast after a restart (and periodically) until a committed
block carries them or ``CheckTx`` refuses them.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import heapq
import json
import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from eth.abc import SignedTransactionAPI
from eth.constants import ZERO_ADDRESS
from eth_utils import keccak, to_canonical_address, to_checksum_address

from passport._proto.tendermint.abci import types_pb2 as abci
from passport._proto.tendermint.crypto import keys_pb2
from passport.exceptions import NodeError, RpcError, TransactionRefused
from passport.node.chain import BlockRejected, BuiltBlock
from passport.node.consensus import cometbft_version
from passport.node.consensus.abci import AbciServer
from passport.node.consensus.sealer import EXTRA_DATA, log_block
from passport.node.rpc.codes import INTERNAL_ERROR, SERVER_ERROR

log = logging.getLogger("passport.node.cometbft")

ACK_PREFIX = b"pp:ack:"  # acknowledged transactions not yet committed: hash -> raw
# every validator this chain has known: CometBFT address (20) -> ed25519 key (32) + member
# account (20) + genesis power (8) + current power (8); written with the block that changes it
VALIDATOR_PREFIX = b"pp:val:"
MEMBER_SELECTOR = keccak(b"member(address)")[:4]
VALIDATOR_SELECTOR = keccak(b"validator(bytes32)")[:4]
VALIDATOR_SET_EVENT = keccak(b"ValidatorSet(bytes32,address,uint64)")
MEMBER_EVENTS = {
    keccak(b"MemberActiveChanged(address,bool)"),
    keccak(b"MemberSanctionChanged(address,bool)"),
}
TX_REFUSED = 1  # CheckTx code for a refused transaction (0 is OK)
REBROADCAST_SECONDS = 15.0
RELAY_BATCH = 500
APP_VERSION = 1
BROADCAST_TIMEOUT = 30.0
FATAL_STOP_SECONDS = 20.0
APP_HASH_MISMATCH = re.compile(
    r"wrong Block\.Header\.AppHash\.\s+Expected ([0-9A-Fa-f]+), got ([0-9A-Fa-f]+)"
)


def cometbft_binary() -> Path:
    """The ``cometbft`` to run: ``$PASSPORT_COMETBFT``, the repository's ``.bin/cometbft``
    (``make setup`` builds it), or one on ``PATH``; it must be the pinned version.

    Raises:
        NodeError: none found, or it is another version.
    """
    candidates = [os.environ.get("PASSPORT_COMETBFT")]
    candidates.append(str(Path(__file__).resolve().parents[3] / ".bin" / "cometbft"))
    candidates.append(shutil.which("cometbft"))
    wanted = cometbft_version().removeprefix("v")
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            found = _binary_version(candidate)
            if found != wanted:
                raise NodeError(
                    f"{candidate} is CometBFT {found}; this node needs {wanted} (run `make setup`)"
                )
            return Path(candidate)
    raise NodeError(
        f"cometbft {wanted} not found: run `make setup` (it builds .bin/cometbft with Go) "
        "or set $PASSPORT_COMETBFT"
    )


_versions: dict[str, str] = {}


def _binary_version(path: str) -> str:
    if path not in _versions:
        out = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30, check=False)
        _versions[path] = out.stdout.strip()
    return _versions[path]


@dataclass(frozen=True)
class CometConfig:
    """What the application needs from the CometBFT home's ``config/config.toml``."""

    home: Path
    abci_host: str
    abci_port: int
    rpc_url: str
    chain_id: str
    max_batch: int = 10

    @classmethod
    def read(cls, home: Path) -> CometConfig:
        config_path = home / "config" / "config.toml"
        genesis_path = home / "config" / "genesis.json"
        try:
            config = tomllib.loads(config_path.read_text())
            genesis = json.loads(genesis_path.read_text())
        except OSError as exc:
            raise NodeError(
                f"{home} is not a CometBFT home ({exc.filename}: {exc.strerror}); "
                "create one with `passport net init`"
            ) from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise NodeError(f"{home}: cannot read the CometBFT config: {exc}") from None
        proxy = str(config.get("proxy_app", ""))
        rpc = str(config.get("rpc", {}).get("laddr", ""))
        if config.get("abci", "socket") != "socket":
            raise NodeError(f'{config_path}: abci must be "socket"')
        abci_host, abci_port = _tcp_address(proxy, f"{config_path}: proxy_app")
        rpc_host, rpc_port = _tcp_address(rpc, f"{config_path}: rpc.laddr")
        return cls(
            home=home,
            abci_host=abci_host,
            abci_port=abci_port,
            rpc_url=f"http://{rpc_host}:{rpc_port}",
            chain_id=str(genesis.get("chain_id", "")),
            max_batch=max(1, int(config.get("rpc", {}).get("max_request_batch_size", 10) or 10)),
        )


def _tcp_address(value: str, where: str) -> tuple[str, int]:
    match = re.fullmatch(r"tcp://([^:/]+):(\d+)", value)
    if not match:
        raise NodeError(f"{where} must be tcp://HOST:PORT, not {value!r}")
    return match.group(1), int(match.group(2))


def _post(url: str, payload: Any, timeout: float) -> Any:
    """POST a JSON-RPC payload to CometBFT and return the decoded answer.

    Raises:
        OSError: it did not answer (or not with JSON).
    """
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise OSError(f"CometBFT at {url} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(f"CometBFT at {url} is unreachable: {exc.reason}") from None
    except (TimeoutError, json.JSONDecodeError) as exc:
        raise OSError(f"CometBFT at {url}: {exc}") from None


def _error_text(error: dict[str, Any]) -> str:
    return str(error.get("data") or error.get("message"))


def comet_rpc(url: str, method: str, params: dict[str, Any], timeout: float = BROADCAST_TIMEOUT) -> Any:
    """One call to CometBFT's JSON-RPC.

    Raises:
        RpcError: CometBFT answered an error (its data says why).
        OSError: it did not answer.
    """
    payload = _post(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout)
    if "error" in payload:
        error = payload["error"]
        raise RpcError(int(error.get("code", INTERNAL_ERROR)), _error_text(error))
    return payload["result"]


def comet_rpc_batch(
    url: str, calls: Sequence[tuple[str, dict[str, Any]]], timeout: float = BROADCAST_TIMEOUT
) -> list[tuple[Any, str | None]]:
    """A JSON-RPC batch to CometBFT: (result, None) or (None, error text) per call, in order.

    Raises:
        OSError: it did not answer.
    """
    payload = _post(
        url,
        [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)],
        timeout,
    )
    if isinstance(payload, dict):  # one error for the whole batch
        text = _error_text(payload.get("error", {})) if "error" in payload else str(payload)
        return [(None, text) for _ in calls]
    by_id = {int(answer.get("id", -1)): answer for answer in payload}
    out: list[tuple[Any, str | None]] = []
    for index in range(len(calls)):
        answer = by_id.get(index, {"error": {"message": "no answer"}})
        if "error" in answer:
            out.append((None, _error_text(answer["error"])))
        else:
            out.append((answer.get("result"), None))
    return out


def _exit_after(seconds: float) -> None:  # pragma: no cover - only when a graceful stop hangs
    time.sleep(seconds)
    log.critical("the node did not stop within %.0f s of a fatal error: exiting now", seconds)
    os._exit(1)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGKILL when the node process dies (kill -9 takes both)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()


class CometProcess:
    """The ``cometbft start`` child of a node: its output goes to ``<home>/cometbft.log``, and
    a line saying this node's app hash differs from the network's stops the node."""

    def __init__(self, binary: Path, home: Path, on_divergence: Any) -> None:
        self.binary = binary
        self.home = home
        self.on_divergence = on_divergence
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = open(self.home / "cometbft.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(self.binary), "start", "--home", str(self.home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run in the child before exec
        )
        threading.Thread(target=self._pump, name="passport-cometbft-log", daemon=True).start()

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None and self._log is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError, OSError):
                self._log.write(line)
                self._log.flush()
            match = APP_HASH_MISMATCH.search(line.decode(errors="replace"))
            if match:
                self.on_divergence(match.group(1), match.group(2))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self._log is not None:
            self._log.close()


class CometConsensus:
    """The CometBFT engine of a node: the ABCI application, its ``cometbft`` process and the
    acknowledged-transaction relay. See the module docstring."""

    role = "cometbft"

    def __init__(self, node: Any, home: Path) -> None:
        self.node = node
        self.chain = node.chain
        self.home = home
        self.comet = CometConfig.read(home)
        self.binary = cometbft_binary()
        accounts = node.chain.genesis.consensus_accounts
        self._accounts = {bytes.fromhex(k): to_canonical_address(v) for k, v in accounts.items()}
        self._built: tuple[tuple[Any, ...], BuiltBlock] | None = None
        self._finalized: tuple[int, BuiltBlock] | None = None
        self._stopping = threading.Event()
        self.halted: str | None = None
        self._server: AbciServer | None = None
        self._process: CometProcess | None = None
        self._last_status: dict[str, Any] = {}
        self._finalize_seconds = 0.0
        self._batching = threading.local()
        self._outbox: queue.Queue[list[tuple[bytes, bytes]]] = queue.Queue()
        self._handed: set[bytes] = set()
        # CometBFT refuses JSON-RPC batches above rpc.max_request_batch_size
        self._batch_size = min(RELAY_BATCH, self.comet.max_batch)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> list[threading.Thread]:
        try:
            self._server = AbciServer(self.comet.abci_host, self.comet.abci_port, self)
        except OSError as exc:
            raise NodeError(
                f"cannot listen for CometBFT on {self.comet.abci_host}:{self.comet.abci_port}: {exc.strerror}"
            ) from None
        threads = [self._server.serve_in_thread()]
        self._process = CometProcess(self.binary, self.home, self._diverged)
        self._process.start()
        for target, name in ((self._relay_loop, "passport-rebroadcast"), (self._relay_out, "passport-relay")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            self._process.stop()
        if self._server is not None:
            self._server.close()

    def fatal(self, message: str) -> None:
        """Stop the node: its state cannot follow the network. The graceful stop (SIGTERM) gets
        FATAL_STOP_SECONDS; past them the process exits at once (every commit is atomic, so an
        abrupt exit loses nothing acknowledged)."""
        if self.halted is None:
            self.halted = message
            log.critical("%s; stopping this node", message)
            threading.Thread(target=_exit_after, args=(FATAL_STOP_SECONDS,), daemon=True).start()
            os.kill(os.getpid(), signal.SIGTERM)

    def _diverged(self, ours: str, network: str) -> None:
        self.fatal(
            "this node's state diverged from the network: its last block hash (app hash) is "
            f"0x{ours.lower()}, "
            f"the network's is 0x{network.lower()}; the store in {self.node.data_dir} does not match the "
            "chain: restore it from a backup or delete it to replay the chain from CometBFT"
        )

    # ---------------------------------------------------------------- submissions

    def submit(self, raw: bytes) -> bytes:
        """Admit ``raw`` (the same checks ``CheckTx`` runs), make it durable, and queue it for
        CometBFT's mempool; the hash is returned once it is durable. Inside a JSON-RPC batch the
        batch's transactions are made durable together, before the batch is answered."""
        with self.chain.lock:
            tx_hash = bytes(self.node.mempool.add(raw))
        state = self._batching
        if getattr(state, "active", False):
            state.pending.append((tx_hash, raw))
        else:
            self._acknowledge([(tx_hash, raw)])
        return tx_hash

    @contextlib.contextmanager
    def submissions_batched(self) -> Iterator[None]:
        state = self._batching
        if getattr(state, "active", False):
            yield
            return
        state.active, state.pending = True, []
        try:
            yield
        finally:
            state.active = False
            if state.pending:
                self._acknowledge(state.pending)

    def _acknowledge(self, items: list[tuple[bytes, bytes]]) -> None:
        try:
            self.node.store.write_through({ACK_PREFIX + tx_hash: raw for tx_hash, raw in items})
        except BaseException:
            with self.chain.lock:
                for tx_hash, _ in items:
                    entry = self.node.mempool.get(tx_hash)
                    if entry is not None:
                        self.node.mempool.remove([entry.tx])
            raise
        self._outbox.put(items)

    def _relay_out(self) -> None:
        """Hand acknowledged transactions to CometBFT's mempool, in order, many per request."""
        while not self._stopping.is_set():
            try:
                items = self._outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            while len(items) < self._batch_size:
                try:
                    items = items + self._outbox.get_nowait()
                except queue.Empty:
                    break
            for start in range(0, len(items), self._batch_size):
                self._broadcast(items[start : start + self._batch_size])

    def _broadcast(self, items: list[tuple[bytes, bytes]]) -> int:
        """``broadcast_tx_sync`` of each item, in one JSON-RPC batch; returns how many CometBFT
        took. A refused transaction that no block carries loses its acknowledgement (logged);
        an unreachable CometBFT leaves them for the periodic re-broadcast."""
        calls = [("broadcast_tx_sync", {"tx": base64.b64encode(raw).decode()}) for _, raw in items]
        try:
            answers = comet_rpc_batch(self.comet.rpc_url, calls)
        except OSError as exc:
            log.warning("CometBFT did not take %d transactions (re-broadcast later): %s", len(items), exc)
            return 0
        taken = 0
        for (tx_hash, _), (result, error) in zip(items, answers, strict=True):
            if error is not None and "already exists in cache" not in error:
                log.warning("CometBFT did not take 0x%s (re-broadcast later): %s", tx_hash.hex(), error)
                continue
            if result is not None and int(result.get("code", 0)) != 0:
                with self.chain.lock:
                    committed = self.chain.transaction_location(tx_hash) is not None
                if not committed:
                    log.warning(
                        "acknowledged transaction 0x%s is now refused: %s", tx_hash.hex(), result.get("log")
                    )
                    self.node.store.write_through({ACK_PREFIX + tx_hash: None})
                continue
            self._handed.add(tx_hash)
            taken += 1
        return taken

    def pending_nonce(self, sender: bytes, account_nonce: int) -> int:
        with self.chain.lock:
            return int(self.node.mempool.pending_nonce(sender, account_nonce))

    def pending_transaction(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        entry = self.node.mempool.get(tx_hash)
        return None if entry is None else entry.tx

    def pending_count(self) -> int:
        return len(self.node.mempool)

    def _relay_loop(self) -> None:
        """Re-broadcast acknowledged transactions no block has carried yet: at start (CometBFT's
        mempool does not survive a restart), then every REBROADCAST_SECONDS."""
        while not self._stopping.is_set():
            with contextlib.suppress(OSError, RpcError):
                self._last_status = comet_rpc(self.comet.rpc_url, "status", {}, timeout=5)
                break
            self._stopping.wait(0.2)
        rounds = 0
        while not self._stopping.is_set():
            try:
                self.rebroadcast(everything=rounds % 4 == 0)
            except Exception:
                log.exception("re-broadcasting acknowledged transactions failed; retrying")
            rounds += 1
            self._stopping.wait(REBROADCAST_SECONDS)
            with contextlib.suppress(OSError, RpcError):
                self._last_status = comet_rpc(self.comet.rpc_url, "status", {}, timeout=5)

    def rebroadcast(self, everything: bool = False) -> int:
        """Hand acknowledged, uncommitted transactions to CometBFT again (all of them, or those
        not handed since this process started); returns how many it took."""
        pending: list[tuple[bytes, bytes]] = []
        settled: dict[bytes, bytes | None] = {}
        for key, raw in self.node.store.prefixed(ACK_PREFIX):
            tx_hash = key[len(ACK_PREFIX) :]
            with self.chain.lock:
                committed = self.chain.transaction_location(tx_hash) is not None
            if committed:
                settled[key] = None
            elif everything or tx_hash not in self._handed:
                pending.append((tx_hash, raw))
        if settled:
            self.node.store.write_through(settled)
        sent = 0
        for start in range(0, len(pending), self._batch_size):
            sent += self._broadcast(pending[start : start + self._batch_size])
        if sent:
            log.info("re-broadcast %d acknowledged transactions", sent)
        return sent

    # ---------------------------------------------------------------- status

    def health(self) -> tuple[bool, dict[str, Any]]:
        running = self._process is not None and self._process.running()
        sync = self._last_status.get("sync_info", {})
        catching_up = bool(sync.get("catching_up", False))
        detail = {"cometbft": running, "catchingUp": catching_up, "halted": self.halted}
        return running and not catching_up and self.halted is None, detail

    def info(self) -> dict[str, Any]:
        validator = self._last_status.get("validator_info", {})
        return {
            "cometbft": {
                "version": cometbft_version(),
                "chainId": self.comet.chain_id,
                "home": str(self.home),
                "rpc": self.comet.rpc_url,
                "running": self._process is not None and self._process.running(),
                "validatorAddress": validator.get("address"),
                "votingPower": int(validator.get("voting_power", 0) or 0),
                "halted": self.halted,
            }
        }

    # ---------------------------------------------------------------- ABCI

    def handle(self, kind: str, request: Any) -> Any:
        handler = getattr(self, f"abci_{kind}", None)
        if handler is None:
            return _EMPTY_RESPONSES[kind]()
        return handler(request)

    def abci_info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        with self.chain.lock:
            head = self.chain.head
        number = int(head.block_number)
        return abci.ResponseInfo(
            data="mineral-passport",
            version=cometbft_version(),
            app_version=APP_VERSION,
            last_block_height=number,
            last_block_app_hash=bytes(head.hash) if number else b"",
        )

    def abci_init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        if request.initial_height > 1:
            raise NodeError("the EVM block number is the CometBFT height: initial_height must be 1")
        validators: dict[bytes, bytes | None] = {}
        for update in request.validators:
            key = bytes(update.pub_key.ed25519)
            if len(key) != 32:
                raise NodeError("validators must have ed25519 keys")
            address = comet_address(key)
            account = self._accounts.get(address, ZERO_ADDRESS)
            power = int(update.power).to_bytes(8, "big")
            validators[VALIDATOR_PREFIX + address] = key + account + power + power
        with self.chain.lock:
            self.node.store.write_through(validators)
            genesis_hash = self.chain.genesis_hash
        return abci.ResponseInitChain(app_hash=genesis_hash)

    def abci_query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        with self.chain.lock:
            head = self.chain.head
        return abci.ResponseQuery(
            code=0, height=int(head.block_number), value=bytes(head.hash), log="the EVM head; use JSON-RPC"
        )

    def abci_check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        raw = bytes(request.tx)
        mempool = self.node.mempool
        with self.chain.lock:
            try:
                # a transaction's hash is the keccak of its encoding: the pool's own (relayed
                # from this node, or rechecked after a block) pass without being decoded again
                known = mempool.get(keccak(raw))
                if known is not None:
                    return abci.ResponseCheckTx(code=0, gas_wanted=int(known.tx.gas))
                tx_hash = mempool.add(raw)
            except TransactionRefused as exc:
                return abci.ResponseCheckTx(code=TX_REFUSED, log=str(exc), codespace="passport")
            entry = mempool.get(tx_hash)
        gas = int(entry.tx.gas) if entry is not None else 0
        return abci.ResponseCheckTx(code=0, gas_wanted=gas)

    def abci_prepare_proposal(self, request: abci.RequestPrepareProposal) -> abci.ResponsePrepareProposal:
        decoded: list[SignedTransactionAPI] = []
        raw_of: dict[bytes, bytes] = {}
        for raw in request.txs:
            try:
                tx = self._decode(bytes(raw))
                _ = tx.sender
            except (TransactionRefused, ValueError):
                continue
            if tx.hash in raw_of:
                continue
            raw_of[bytes(tx.hash)] = bytes(raw)
            decoded.append(tx)
        ordered = order_by_nonce(decoded)
        with self.chain.lock:
            built = self._build(ordered, request, strict=False)
            kept = [raw_of[bytes(tx.hash)] for tx in built.block.transactions]
            for tx, reason in built.skipped:
                log.info("left transaction 0x%s out of the proposal: %s", bytes(tx.hash).hex(), reason)
            self._built = (self._key(request, kept), built)
        return abci.ResponsePrepareProposal(txs=kept)

    def _decode(self, raw: bytes) -> SignedTransactionAPI:
        """The pool's decoded transaction for ``raw`` (sender already recovered), or a fresh
        decoding of it."""
        known = self.node.mempool.get(keccak(raw))
        tx: SignedTransactionAPI = known.tx if known is not None else self.node.mempool.decode(raw)
        return tx

    def _coinbase(self, proposer: bytes) -> bytes:
        stored = self.node.store.get(VALIDATOR_PREFIX + bytes(proposer))
        if stored is not None:
            return ValidatorRecord.decode(stored).account
        return self._accounts.get(bytes(proposer), ZERO_ADDRESS)

    def _build(self, txs: Sequence[SignedTransactionAPI], request: Any, strict: bool) -> BuiltBlock:
        """Build the block of ``request`` (height, time, proposer) on the head; the caller holds
        the chain lock. Raises BlockRejected (strict) or NodeError (wrong height)."""
        chain = self.chain
        height = int(request.height)
        parent = chain.head
        if height != parent.block_number + 1:
            raise NodeError(f"CometBFT asks for height {height}, the EVM head is {parent.block_number}")
        self._discard_built()
        timestamp = max(int(request.time.seconds), int(parent.timestamp) + 1)
        built: BuiltBlock = chain.build(
            txs,
            timestamp=timestamp,
            coinbase=self._coinbase(request.proposer_address),
            extra_data=EXTRA_DATA,
            strict=strict,
            check_permission=self.node.config.permissioning.enabled,
        )
        return built

    def _discard_built(self) -> None:
        if self._built is not None:
            self._built = None
            self.chain.abandon()

    def _key(self, request: Any, raws: Sequence[bytes]) -> tuple[Any, ...]:
        return (
            int(request.height),
            int(request.time.seconds),
            bytes(request.proposer_address),
            tuple(raws),
        )

    def abci_process_proposal(self, request: abci.RequestProcessProposal) -> abci.ResponseProcessProposal:
        raws = [bytes(tx) for tx in request.txs]
        key = self._key(request, raws)
        with self.chain.lock:
            if self._built is not None and self._built[0] == key:
                return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)
            try:
                txs = [self._decode(raw) for raw in raws]
                built = self._build(txs, request, strict=True)
            except (BlockRejected, RpcError) as exc:
                self.chain.abandon()
                log.warning("rejected the proposal for height %d: %s", request.height, exc)
                return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.REJECT)
            self._built = (key, built)
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    def abci_finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        raws = [bytes(tx) for tx in request.txs]
        key = self._key(request, raws)
        started = time.perf_counter()
        with self.chain.lock:
            if self._built is not None and self._built[0] == key:
                built = self._built[1]
                self._built = None
            else:
                try:
                    txs = [self._decode(raw) for raw in raws]
                    built = self._build(txs, request, strict=True)
                except (BlockRejected, RpcError, NodeError) as exc:
                    self.chain.abandon()
                    message = getattr(exc, "message", str(exc))
                    self.fatal(f"the network decided block {request.height}, which fails here: {message}")
                    raise
            updates = self.validator_updates(built)
            self._finalized = (int(request.height), built)
        results = [
            abci.ExecTxResult(
                code=0,
                gas_wanted=int(tx.gas),
                gas_used=int(receipt.gas_used) - int(previous),
                log="" if receipt.state_root == b"\x01" else "reverted",
            )
            for tx, receipt, previous in zip(
                built.block.transactions,
                built.receipts,
                [0, *(r.gas_used for r in built.receipts)],
                strict=False,
            )
        ]
        self._finalize_seconds = time.perf_counter() - started
        return abci.ResponseFinalizeBlock(
            tx_results=results, validator_updates=updates, app_hash=bytes(built.block.hash)
        )

    def validator_updates(self, built: BuiltBlock) -> list[abci.ValidatorUpdate]:
        """Validator-set changes the block decided on-chain, as CometBFT validator updates.

        A validator's power is the one its latest ``ValidatorSet`` proposal gave it (or, for a
        genesis validator never re-registered, its genesis power), and 0 while its member is
        inactive or sanctioned. It is recomputed for the validators a block's Consortium events
        touch (``ValidatorSet``, member (de)activation and (un)sanction); the new powers are
        written with the block. An update that would leave no power at all is refused (logged),
        so governance cannot halt the chain. Call with the chain lock held."""
        consortium = self.chain.consortium
        if consortium is None:
            return []
        keys: list[bytes] = []
        accounts: set[bytes] = set()
        for receipt in built.receipts:
            for entry in receipt.logs:
                if entry.address != consortium or len(entry.topics) < 2:
                    continue
                topic = entry.topics[0].to_bytes(32, "big")
                if topic == VALIDATOR_SET_EVENT:
                    keys.append(entry.topics[1].to_bytes(32, "big"))
                elif topic in MEMBER_EVENTS:
                    accounts.add(entry.topics[1].to_bytes(32, "big")[12:])
        if not keys and not accounts:
            return []
        records = self.validator_records()
        for record in records.values():
            if record.account in accounts and record.key not in keys:
                keys.append(record.key)
        vm = self.chain.vm_at(built.block.header)
        changes: dict[bytes, ValidatorRecord] = {}
        for key in dict.fromkeys(keys):
            address = comet_address(key)
            record = records.get(address) or ValidatorRecord(key, ZERO_ADDRESS, 0, 0)
            account, registered_power = _registered(vm, consortium, key)
            if account != ZERO_ADDRESS:
                record = ValidatorRecord(key, account, record.genesis_power, record.power)
                base = registered_power
            else:
                base = record.genesis_power
            eligible = record.account == ZERO_ADDRESS or _member_eligible(vm, consortium, record.account)
            wanted = base if eligible else 0
            if wanted != record.power or address not in records:
                changes[address] = ValidatorRecord(record.key, record.account, record.genesis_power, wanted)
        total = sum(r.power for a, r in records.items() if a not in changes) + sum(
            r.power for r in changes.values()
        )
        if total == 0:
            log.error(
                "refusing validator changes at block %d: no voting power would remain", built.block.number
            )
            return []
        updates = []
        for address, record in changes.items():
            before = records[address].power if address in records else 0
            self.node.store[VALIDATOR_PREFIX + address] = record.encode()
            if record.power != before:
                updates.append(
                    abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=record.key), power=record.power)
                )
                log.info(
                    "validator %s (member %s): power %d -> %d at block %d",
                    address.hex(),
                    to_checksum_address(record.account),
                    before,
                    record.power,
                    built.block.number,
                )
        return updates

    def validators(self) -> list[dict[str, Any]]:
        """The validator set the chain has (power > 0) and every validator it has known."""
        with self.chain.lock:
            records = self.validator_records()
        return [
            {
                "address": address.hex().upper(),
                "pubKey": base64.b64encode(r.key).decode(),
                "account": to_checksum_address(r.account) if r.account != ZERO_ADDRESS else None,
                "power": r.power,
                "genesisPower": r.genesis_power,
            }
            for address, r in sorted(records.items())
        ]

    def light_block(self, height: int | None) -> dict[str, Any] | None:
        """CometBFT's signed header at ``height`` (default: the latest with a commit) and the
        validator set that signed it, in CometBFT's JSON (``/commit``, ``/validators``): what a
        light client verifies. None for a height CometBFT has not committed.

        Raises:
            RpcError: CometBFT refused (a pruned height, say) or is unreachable.
        """
        url = self.comet.rpc_url
        try:
            commit = comet_rpc(url, "commit", {} if height is None else {"height": str(height)}, timeout=10)
            signed = commit["signed_header"]
            at = signed["header"]["height"]
            validators: list[dict[str, Any]] = []
            page = 1
            while True:
                part = comet_rpc(
                    url, "validators", {"height": at, "page": str(page), "per_page": "100"}, timeout=10
                )
                validators += part["validators"]
                if not part["validators"] or len(validators) >= int(part["total"]):
                    break
                page += 1
        except RpcError as exc:
            if "must be less than or equal to the current blockchain height" in exc.message:
                return None
            raise RpcError(SERVER_ERROR, f"CometBFT: {exc.message}") from None
        except OSError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        return {
            "signed_header": signed,
            "canonical": bool(commit.get("canonical")),
            "validator_set": {"validators": validators},
        }

    def validator_records(self) -> dict[bytes, ValidatorRecord]:
        """Every validator this chain has known, by CometBFT address (committed and pending)."""
        store = self.node.store
        out = {}
        for key, value in store.prefixed(VALIDATOR_PREFIX):
            pending = store.get(key)  # a write of the block being built wins
            out[key[len(VALIDATOR_PREFIX) :]] = ValidatorRecord.decode(pending or value)
        return out

    def abci_commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        if self._finalized is None:
            raise NodeError("Commit without a finalized block")
        started = time.perf_counter()
        _, built = self._finalized
        mempool = self.node.mempool
        store = self.node.store
        with self.chain.lock:
            for tx in built.block.transactions:
                key = ACK_PREFIX + bytes(tx.hash)
                if key in store:
                    del store[key]  # settled, atomically with the block
            self.chain.commit(built.block, built.receipts, b"")
            self._finalized = None
            mempool.remove(list(built.block.transactions))
            mempool.prune()
        seconds = self._finalize_seconds + time.perf_counter() - started
        self.node.metrics.sealed_blocks.inc()
        self.node.metrics.sealed_transactions.inc(len(built.block.transactions))
        self.node.metrics.seal_seconds.observe(seconds)
        if built.block.transactions:
            log_block("committed", built.block, seconds)
        return abci.ResponseCommit(retain_height=0)


@dataclass(frozen=True, slots=True)
class ValidatorRecord:
    key: bytes  # ed25519 public key
    account: bytes  # the member it is bound to (zero: none)
    genesis_power: int
    power: int

    def encode(self) -> bytes:
        return self.key + self.account + self.genesis_power.to_bytes(8, "big") + self.power.to_bytes(8, "big")

    @classmethod
    def decode(cls, raw: bytes) -> ValidatorRecord:
        return cls(raw[:32], raw[32:52], int.from_bytes(raw[52:60], "big"), int.from_bytes(raw[60:68], "big"))


def comet_address(key: bytes) -> bytes:
    """A CometBFT validator address: the first 20 bytes of SHA-256 of the ed25519 key."""
    return hashlib.sha256(key).digest()[:20]


def _view(vm: Any, consortium: bytes, data: bytes) -> bytes:
    computation = vm.execute_bytecode(
        origin=ZERO_ADDRESS,
        gas_price=0,
        gas=1_000_000,
        to=consortium,
        sender=ZERO_ADDRESS,
        value=0,
        data=data,
        code=vm.state.get_code(consortium),
    )
    return b"" if computation.is_error else bytes(computation.output)


def _registered(vm: Any, consortium: bytes, key: bytes) -> tuple[bytes, int]:
    """(account, power) the Consortium's ``validator(bytes32)`` holds for ``key``."""
    output = _view(vm, consortium, VALIDATOR_SELECTOR + key)
    if len(output) < 64:
        return ZERO_ADDRESS, 0
    return output[12:32], int.from_bytes(output[32:64], "big")


def _member_eligible(vm: Any, consortium: bytes, account: bytes) -> bool:
    """The Consortium says ``account`` is an active, unsanctioned member (``member(address)``)."""
    output = _view(vm, consortium, MEMBER_SELECTOR + account.rjust(32, b"\0"))
    if len(output) < 96:
        return False
    active = int.from_bytes(output[32:64], "big") != 0
    sanctioned = int.from_bytes(output[64:96], "big") != 0
    return active and not sanctioned


def order_by_nonce(txs: Sequence[SignedTransactionAPI]) -> list[SignedTransactionAPI]:
    """Each sender's transactions in nonce order, senders interleaved by first arrival."""
    by_sender: dict[bytes, list[tuple[int, int, SignedTransactionAPI]]] = {}
    for index, tx in enumerate(txs):
        by_sender.setdefault(bytes(tx.sender), []).append((int(tx.nonce), index, tx))
    heap: list[tuple[int, bytes]] = []
    for sender, waiting in by_sender.items():
        waiting.sort(key=lambda item: item[0])
        heap.append((min(item[1] for item in waiting), sender))
    heapq.heapify(heap)
    out: list[SignedTransactionAPI] = []
    positions = dict.fromkeys(by_sender, 0)
    while heap:
        _, sender = heapq.heappop(heap)
        waiting = by_sender[sender]
        position = positions[sender]
        out.append(waiting[position][2])
        positions[sender] = position + 1
        if position + 1 < len(waiting):
            heapq.heappush(heap, (waiting[position + 1][1], sender))
    return out


_EMPTY_RESPONSES: dict[str, Any] = {
    "list_snapshots": abci.ResponseListSnapshots,
    "offer_snapshot": abci.ResponseOfferSnapshot,
    "load_snapshot_chunk": abci.ResponseLoadSnapshotChunk,
    "apply_snapshot_chunk": abci.ResponseApplySnapshotChunk,
    "extend_vote": abci.ResponseExtendVote,
    "verify_vote_extension": lambda: abci.ResponseVerifyVoteExtension(
        status=abci.ResponseVerifyVoteExtension.ACCEPT
    ),
}
