"""Validators governed on-chain: which CometBFT validators a block's Consortium events change,
and to what voting power, kept in the store beside the block that changes them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from eth.constants import ZERO_ADDRESS
from eth_utils import keccak, to_checksum_address

from passport._proto.tendermint.abci import types_pb2 as abci
from passport._proto.tendermint.crypto import keys_pb2
from passport.node.chain import BuiltBlock, NodeChain
from passport.node.store import LmdbStore

log = logging.getLogger("passport.node.cometbft")

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


def validator_updates(chain: NodeChain, store: LmdbStore, built: BuiltBlock) -> list[abci.ValidatorUpdate]:
    """Validator-set changes the block decided on-chain, as CometBFT validator updates.

    A validator's power is the one its latest ``ValidatorSet`` proposal gave it (or, for a
    genesis validator never re-registered, its genesis power), and 0 while its member is
    inactive or sanctioned. It is recomputed for the validators a block's Consortium events
    touch (``ValidatorSet``, member (de)activation and (un)sanction); the new powers are
    written with the block. An update that would leave no power at all is refused (logged),
    so governance cannot halt the chain. Call with the chain lock held."""
    consortium = chain.consortium
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
    records = validator_records(store)
    for record in records.values():
        if record.account in accounts and record.key not in keys:
            keys.append(record.key)
    vm = chain.vm_at(built.block.header)
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
        log.error("refusing validator changes at block %d: no voting power would remain", built.block.number)
        return []
    updates = []
    for address, record in changes.items():
        before = records[address].power if address in records else 0
        store[VALIDATOR_PREFIX + address] = record.encode()
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


def validator_records(store: LmdbStore) -> dict[bytes, ValidatorRecord]:
    """Every validator this chain has known, by CometBFT address (committed and pending)."""
    out = {}
    for key, value in store.prefixed(VALIDATOR_PREFIX):
        pending = store.get(key)  # a write of the block being built wins
        out[key[len(VALIDATOR_PREFIX) :]] = ValidatorRecord.decode(pending or value)
    return out


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
