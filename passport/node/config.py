"""Genesis (the chain's rules, shared by every node of a consortium) and the node's own config.

``genesis.json`` fixes the chain id, the validator set, the bootstrap allowlist, the
Consortium contract's address and the funded accounts; nodes with different genesis files
are different chains. ``node.toml`` is one node's settings: where it listens, its tokens,
its block interval, its limits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w
from eth._utils.address import generate_contract_address
from eth_utils import is_address, to_canonical_address, to_checksum_address

from passport._utils.files import atomic_write
from passport.exceptions import NodeError

GENESIS_FILE = "genesis.json"
CONFIG_FILE = "node.toml"
KEYSTORE_FILE = "validator.json"
CHAIN_DIR = "chain"
DEV_CHAIN_ID = 1337
DEV_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed dev genesis has a fixed hash
DEV_BALANCE = 10_000 * 10**18
DEFAULT_GAS_LIMIT = 30_000_000
DEFAULT_BASE_FEE = 10**9
SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class Genesis:
    chain_id: int
    validators: tuple[str, ...]
    allowlist: tuple[str, ...]
    consortium: str | None
    alloc: dict[str, dict[str, Any]]
    timestamp: int
    gas_limit: int = DEFAULT_GAS_LIMIT
    base_fee_per_gas: int = DEFAULT_BASE_FEE
    extra_data: str = "0x"
    # On a CometBFT network: each validator's CometBFT address (hex) -> its member account, the
    # coinbase of the blocks it proposes. Absent on single-sealer chains.
    consensus_accounts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.consensus_accounts:
            extra["consensusAccounts"] = dict(self.consensus_accounts)
        return {
            **extra,
            "chainId": self.chain_id,
            "timestamp": self.timestamp,
            "gasLimit": self.gas_limit,
            "baseFeePerGas": self.base_fee_per_gas,
            "extraData": self.extra_data,
            "validators": list(self.validators),
            "allowlist": list(self.allowlist),
            "consortium": self.consortium,
            "alloc": self.alloc,
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "genesis") -> Genesis:
        if not isinstance(data, dict):
            raise NodeError(f"{source}: expected a JSON object")
        try:
            validators = tuple(_address(v, f"{source}: validators") for v in data["validators"])
            allowlist = tuple(_address(v, f"{source}: allowlist") for v in data.get("allowlist", []))
            consortium = data.get("consortium")
            alloc = {
                _address(k, f"{source}: alloc"): _alloc_entry(v, f"{source}: alloc[{k}]")
                for k, v in data.get("alloc", {}).items()
            }
            genesis = cls(
                chain_id=_uint(data["chainId"], f"{source}: chainId"),
                validators=validators,
                allowlist=allowlist,
                consortium=_address(consortium, f"{source}: consortium") if consortium else None,
                alloc=alloc,
                timestamp=_uint(data.get("timestamp", 0), f"{source}: timestamp"),
                gas_limit=_uint(data.get("gasLimit", DEFAULT_GAS_LIMIT), f"{source}: gasLimit"),
                base_fee_per_gas=_uint(
                    data.get("baseFeePerGas", DEFAULT_BASE_FEE), f"{source}: baseFeePerGas"
                ),
                extra_data=str(data.get("extraData", "0x")),
                consensus_accounts={
                    _comet_address(k, f"{source}: consensusAccounts"): _address(
                        v, f"{source}: consensusAccounts"
                    )
                    for k, v in dict(data.get("consensusAccounts", {})).items()
                },
            )
        except KeyError as exc:
            raise NodeError(f"{source}: missing field {exc.args[0]!r}") from None
        except (TypeError, AttributeError) as exc:
            raise NodeError(f"{source}: malformed ({exc})") from None
        if not genesis.validators:
            raise NodeError(f"{source}: the validator set is empty")
        if not 0 < genesis.chain_id < 2**63:
            raise NodeError(f"{source}: chainId must be between 1 and 2^63-1")
        if len(bytes.fromhex(genesis.extra_data.removeprefix("0x"))) > 32:
            raise NodeError(f"{source}: extraData is longer than 32 bytes")
        return genesis

    def write(self, path: Path) -> None:
        atomic_write(path, json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Genesis:
        try:
            return cls.from_json(json.loads(path.read_text()), str(path))
        except OSError as exc:
            raise NodeError(f"cannot read {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise NodeError(f"{path} is not valid JSON: {exc}") from None


def dev_genesis(accounts: list[str], validator: str, chain_id: int = DEV_CHAIN_ID) -> Genesis:
    """The ``--dev`` chain: ``accounts`` funded and allowlisted; the Consortium expected at the
    first contract ``accounts[0]`` creates (where ``passport deploy`` and the demo put it)."""
    return Genesis(
        chain_id=chain_id,
        validators=(validator,),
        allowlist=tuple(accounts),
        consortium=consortium_address(accounts[0]),
        alloc={a: {"balance": hex(DEV_BALANCE)} for a in accounts},
        timestamp=DEV_TIMESTAMP,
    )


def consortium_address(deployer: str) -> str:
    return to_checksum_address(generate_contract_address(to_canonical_address(deployer), 0))


@dataclass
class RpcConfig:
    host: str = "127.0.0.1"
    port: int = 8545
    max_request_bytes: int = 5 * 1024 * 1024
    max_batch_size: int = 1000
    max_log_block_range: int = 10_000
    max_log_results: int = 10_000
    max_filters: int = 1000
    filter_timeout_seconds: float = 300.0
    # eth_call / eth_estimateGas: at most this much gas per call (as geth's --rpc.gascap) and
    # this much wall-clock time (as geth's --rpc.evmtimeout)
    gas_cap: int = 50_000_000
    evm_timeout_seconds: float = 5.0
    # worker processes that run eth_call / eth_estimateGas (0: one per CPU core)
    call_workers: int = 0
    # an HTTP connection idle (or a read stalled) this long is closed; a request must arrive whole
    # within request_deadline_seconds of its first byte; beyond max_connections open at once, new
    # ones get HTTP 503; listen_backlog connections may wait to be accepted
    idle_timeout_seconds: float = 30.0
    request_deadline_seconds: float = 30.0
    max_connections: int = 256
    listen_backlog: int = 1024
    tokens: list[dict[str, str]] = field(default_factory=list)


@dataclass
class SealerConfig:
    block_interval: float = 1.0
    seal_on_transaction: bool = False
    empty_blocks: bool = False
    max_block_transactions: int = 2000
    validator_keystore: str = KEYSTORE_FILE


@dataclass
class MempoolConfig:
    max_transactions: int = 20_000
    max_per_sender: int = 2048
    max_nonce_gap: int = 64
    max_transaction_bytes: int = 128 * 1024
    price_bump_percent: int = 10


@dataclass
class ReplicaConfig:
    # the token a replica presents to its upstream when that node requires tokens (write scope,
    # to report its head); or set PASSPORT_UPSTREAM_TOKEN
    upstream_token: str = ""


@dataclass
class PermissioningConfig:
    enabled: bool = True


@dataclass
class ConsensusConfig:
    # "single": a single sealer (validator key) or a replica (--replica-of);
    # "cometbft": the ABCI application of the CometBFT node whose home is cometbft_home
    engine: str = "single"
    cometbft_home: str = "cometbft"


@dataclass
class NodeConfig:
    rpc: RpcConfig = field(default_factory=RpcConfig)
    sealer: SealerConfig = field(default_factory=SealerConfig)
    mempool: MempoolConfig = field(default_factory=MempoolConfig)
    permissioning: PermissioningConfig = field(default_factory=PermissioningConfig)
    replica: ReplicaConfig = field(default_factory=ReplicaConfig)
    consensus: ConsensusConfig = field(default_factory=ConsensusConfig)

    @classmethod
    def read(cls, path: Path) -> NodeConfig:
        try:
            raw = tomllib.loads(path.read_text())
        except OSError as exc:
            raise NodeError(f"cannot read {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise NodeError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config") -> NodeConfig:
        config = cls()
        sections = {f.name: getattr(config, f.name) for f in fields(config)}
        for name, values in raw.items():
            if name not in sections:
                raise NodeError(f"{source}: unknown section [{name}] (known: {', '.join(sections)})")
            if not isinstance(values, dict):
                raise NodeError(f"{source}: [{name}] must be a table")
            section = sections[name]
            known = {f.name: f for f in fields(section)}
            for key, value in values.items():
                if key not in known:
                    raise NodeError(f"{source}: unknown key {name}.{key} (known: {', '.join(known)})")
                default = getattr(section, key)
                if isinstance(default, bool) and not isinstance(value, bool):
                    raise NodeError(f"{source}: {name}.{key} must be true or false")
                numeric = isinstance(default, int | float) and not isinstance(default, bool)
                if numeric and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                    raise NodeError(f"{source}: {name}.{key} must be a non-negative number")
                if isinstance(default, str) and not isinstance(value, str):
                    raise NodeError(f"{source}: {name}.{key} must be a string")
                setattr(section, key, value)
        if config.consensus.engine not in ("single", "cometbft"):
            raise NodeError(f'{source}: consensus.engine must be "single" or "cometbft"')
        for token in config.rpc.tokens:
            if (
                not isinstance(token, dict)
                or set(token) != {"sha256", "scope"}
                or token["scope"] not in SCOPES
            ):
                raise NodeError(
                    f"{source}: each rpc.tokens entry needs sha256 and scope (one of {', '.join(SCOPES)})"
                )
        return config

    def write(self, path: Path) -> None:
        atomic_write(path, tomli_w.dumps(asdict(self)))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise NodeError(f"{where}: {value!r} is not an address")
    return to_checksum_address(to_canonical_address(value))


def _comet_address(value: Any, where: str) -> str:
    text = str(value).lower().removeprefix("0x")
    if len(text) != 40 or any(c not in "0123456789abcdef" for c in text):
        raise NodeError(f"{where}: {value!r} is not a CometBFT validator address (20 bytes, hex)")
    return text


def _uint(value: Any, where: str) -> int:
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            raise NodeError(f"{where}: {value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NodeError(f"{where}: {value!r} is not a non-negative integer")
    return value


def _alloc_entry(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NodeError(f"{where}: expected an object with balance/nonce/code/storage")
    unknown = set(value) - {"balance", "nonce", "code", "storage"}
    if unknown:
        raise NodeError(f"{where}: unknown fields {sorted(unknown)}")
    entry: dict[str, Any] = {"balance": hex(_uint(value.get("balance", 0), f"{where}.balance"))}
    if "nonce" in value:
        entry["nonce"] = _uint(value["nonce"], f"{where}.nonce")
    if "code" in value:
        entry["code"] = str(value["code"])
    if "storage" in value:
        entry["storage"] = {str(k): str(v) for k, v in dict(value["storage"]).items()}
    return entry
