"""The Ethereum state tests (ethereum/tests ``GeneralStateTests``), run on the node's VM and on
stock py-evm.

Each ``post["Cancun"]`` entry of a fixture is one case: a fresh copy of ``pre``, one signed
transaction (``txbytes``), and the expected state root and logs hash. :func:`run_case` executes
it on a VM class, persists the state and compares both hashes. For the node's VM it then reads
the whole state back from the database the case wrote to: every account-trie and storage-trie
node, every account's code, and every storage slot, and compares that dump with stock py-evm's
(run on a database of its own). A right root over a database that lacks its nodes fails here.

State-test conventions (as go-ethereum's runner): BLOCKHASH(n) is ``keccak(str(n))``, and the
coinbase is removed after the transaction if it is empty.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import rlp
from eth.abc import StateAPI, VirtualMachineAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.db.atomic import AtomicDB
from eth.rlp.accounts import Account
from eth.tools._utils.hashing import hash_log_entries
from eth.tools._utils.normalization import normalize_account_state
from eth.tools.fixtures.helpers import setup_state
from eth.vm.chain_context import ChainContext
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.blocks import CancunBlockHeader
from eth.vm.forks.frontier.validation import validate_frontier_transaction_against_header
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import keccak
from trie.exceptions import MissingTrieNode
from trie.hexary import HexaryTrie
from trie.iter import NodeIterator

from passport.node.chain import PassportVM

FORK = "Cancun"
STATE_TEST_CHAIN_ID = 1


@dataclass(frozen=True, slots=True)
class Case:
    """One post-state entry of one test in one fixture file."""

    path: Path
    name: str
    index: int
    test: dict[str, Any]
    post: dict[str, Any]

    @property
    def id(self) -> str:
        i = self.post["indexes"]
        return f"{self.path.parent.name}/{self.path.stem}::{self.name}[d{i['data']}g{i['gas']}v{i['value']}]"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one VM made of a case: None where it matched, else the first difference."""

    failure: str | None
    dump: dict[bytes, tuple[int, int, bytes, dict[int, int]]] | None = None


def cases(root: Path) -> Iterator[Case]:
    """Every Cancun post-state case in ``root`` (a fixture file, or a folder of them), in a
    stable order."""
    for path in sorted(root.rglob("*.json")) if root.is_dir() else [root]:
        for name, test in sorted(json.loads(path.read_text()).items()):
            for index, post in enumerate(test.get("post", {}).get(FORK, [])):
                yield Case(path, name, index, test, post)


def _int(value: str) -> int:
    return int(value, 16)


def _header(env: dict[str, Any]) -> CancunBlockHeader:
    return CancunBlockHeader(
        difficulty=0,
        block_number=BlockNumber(_int(env["currentNumber"])),
        gas_limit=_int(env["currentGasLimit"]),
        timestamp=_int(env["currentTimestamp"]),
        coinbase=Address(bytes.fromhex(env["currentCoinbase"][2:])),
        mix_hash=Hash32(bytes.fromhex(env.get("currentRandom", "0x" + "00" * 32)[2:])),
        base_fee_per_gas=_int(env.get("currentBaseFee", "0x0")),
        excess_blob_gas=_int(env.get("currentExcessBlobGas", "0x0")),
    )


def _prev_hashes(number: int) -> list[Hash32]:
    """Ancestor hashes, nearest first, by the state-test convention keccak(str(n))."""
    return [Hash32(keccak(str(n).encode())) for n in range(number - 1, max(-1, number - 257), -1)]


def _pre_state(db: AtomicDB, header: CancunBlockHeader, pre: dict[str, Any]) -> Hash32:
    """Write ``pre`` with stock py-evm, so only the transaction runs on the VM under test."""
    state = CancunVM.build_state(db, header, ChainContext(STATE_TEST_CHAIN_ID), ())
    setup_state(normalize_account_state(cast(Any, pre)), state)
    state.persist()
    return state.state_root


def execute(vm_class: type[VirtualMachineAPI], case: Case) -> tuple[Hash32, Hash32, AtomicDB]:
    """Run ``case`` on ``vm_class`` over a database of its own: (state root, logs hash, db)."""
    db = AtomicDB()
    env = _header(case.test["env"])
    header = env.copy(state_root=_pre_state(db, env, case.test["pre"]))
    state: StateAPI = vm_class.build_state(
        db, header, ChainContext(STATE_TEST_CHAIN_ID), _prev_hashes(header.block_number)
    )
    logs_hash = hash_log_entries([])
    try:
        tx = vm_class.get_transaction_builder().decode(bytes.fromhex(case.post["txbytes"][2:]))
        tx.validate()  # as block import does: intrinsic gas, signature values, sizes
        validate_frontier_transaction_against_header(None, header, tx)  # type: ignore[arg-type]
        state.lock_changes()
        computation = state.apply_transaction(tx)
    except Exception:
        # The fixture says the transaction is invalid: rejecting it (py-evm raises several kinds of
        # error for that) must leave the state as it was, which the root comparison checks.
        if "expectException" not in case.post:
            raise
    else:
        logs_hash = hash_log_entries(computation.get_log_entries())
    coinbase = header.coinbase
    if state.account_is_empty(coinbase):
        state.delete_account(coinbase)
    state.persist()
    return state.state_root, logs_hash, db


def dump_state(db: AtomicDB, state_root: Hash32) -> dict[bytes, tuple[int, int, bytes, dict[int, int]]]:
    """Every account (by hashed address) with its nonce, balance, code and storage, read from
    ``db`` node by node.

    Raises:
        MissingTrieNode: a node of the account trie or of a storage trie is not in ``db``.
        KeyError: an account's code is not in ``db``.
    """
    accounts: dict[bytes, tuple[int, int, bytes, dict[int, int]]] = {}
    for key, encoded in NodeIterator(HexaryTrie(db, state_root)).items():
        account = rlp.decode(encoded, sedes=Account)
        storage: dict[int, int] = {}
        if account.storage_root != BLANK_ROOT_HASH:
            for slot_hash, value in NodeIterator(HexaryTrie(db, account.storage_root)).items():
                storage[int.from_bytes(slot_hash, "big")] = rlp.decode(value, sedes=rlp.sedes.big_endian_int)
        code = b"" if account.code_hash == EMPTY_SHA3 else db[account.code_hash]
        accounts[key] = (account.nonce, account.balance, code, storage)
    return accounts


def run_case(vm_class: type[VirtualMachineAPI], case: Case, *, read_back: bool) -> Outcome:
    """``case`` on ``vm_class``: roots and logs compared with the fixture; with ``read_back``,
    the whole state read back from the database (see :func:`dump_state`)."""
    expected_root = bytes.fromhex(case.post["hash"][2:])
    expected_logs = bytes.fromhex(case.post["logs"][2:])
    try:
        root, logs_hash, db = execute(vm_class, case)
    except MissingTrieNode as exc:
        return Outcome(f"missing trie node during execution: {exc!r}")
    except Exception as exc:
        return Outcome(f"{type(exc).__name__} during execution: {exc}")
    if root != expected_root:
        return Outcome(f"state root {root.hex()} != {expected_root.hex()}")
    if logs_hash != expected_logs:
        return Outcome(f"logs hash {logs_hash.hex()} != {expected_logs.hex()}")
    if not read_back:
        return Outcome(None)
    try:
        return Outcome(None, dump_state(db, root))
    except MissingTrieNode as exc:
        return Outcome(f"state committed without its trie node {exc.missing_node_hash.hex()}")
    except KeyError as exc:
        return Outcome(f"state committed without code {exc}")


@dataclass(frozen=True, slots=True)
class Comparison:
    """A case run on stock py-evm and on the node's VM."""

    case: Case
    stock: str | None
    node: str | None
    seconds: float

    @property
    def regression(self) -> bool:
        """Stock py-evm passes and the node's VM does not."""
        return self.stock is None and self.node is not None

    @property
    def timed_out(self) -> bool:
        return any(r is not None and r.startswith(TIMED_OUT) for r in (self.stock, self.node))


class CaseTimeout(BaseException):
    """A VM ran a case longer than the runner allows."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` with :class:`CaseTimeout` (main thread only)."""
    if not seconds:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise CaseTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _bounded(vm_class: type[VirtualMachineAPI], case: Case, seconds: float | None) -> Outcome:
    try:
        with _time_limit(seconds):
            return run_case(vm_class, case, read_back=True)
    except CaseTimeout as exc:
        return Outcome(f"{TIMED_OUT}: {exc}")


TIMED_OUT = "timed out"


def compare(case: Case, seconds: float | None = None) -> Comparison:
    """Run ``case`` on stock ``CancunVM`` and on ``PassportVM``; the node's state read back from
    its database must equal stock py-evm's, account by account and slot by slot. With
    ``seconds``, each VM gets that long (a case stock py-evm cannot finish in time is reported
    as timed out, not as passed or failed)."""
    started = time.perf_counter()
    stock = _bounded(CancunVM, case, seconds)
    node = _bounded(PassportVM, case, seconds)
    node_failure = node.failure
    if node_failure is None and stock.failure is None and node.dump != stock.dump:
        node_failure = "state read back from the database differs from stock py-evm's"
    return Comparison(case, stock.failure, node_failure, time.perf_counter() - started)
