"""Merkle-Patricia proofs from the node's store: EIP-1186 account and storage proofs at any block
the node holds (nothing is pruned), and inclusion proofs of a receipt and its transaction against
a block's receiptsRoot and transactionsRoot.

Proof nodes are read with py-trie from the same database the chain writes, so a proof is exactly
as good as the stored trie: a missing node is an error here, never a wrong answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH
from eth_hash.auto import keccak
from trie.constants import BLANK_NODE_HASH
from trie.exceptions import MissingTrieNode
from trie.hexary import HexaryTrie
from trie.utils.nodes import decode_node

from passport.exceptions import NodeError
from passport.node.tries import ordered_trie


class _ProofTrie(HexaryTrie):
    """py-trie's trie, reading each node at most once for all the proofs of one request (an
    account's storage proofs share their upper levels) and keeping the bytes it was stored as,
    which the proof carries (rather than decoding and encoding it again)."""

    def __init__(
        self, db: Mapping[bytes, bytes], root: bytes, seen: dict[bytes, Any], stored: dict[int, bytes]
    ):
        super().__init__(db, root)
        self._seen = seen
        self._stored = stored

    def get_node(self, node_hash: Any) -> Any:
        if node_hash.__class__ is not bytes or len(node_hash) != 32 or node_hash == BLANK_NODE_HASH:
            return super().get_node(node_hash)  # type: ignore[no-untyped-call]
        node = self._seen.get(node_hash)
        if node is None:
            encoded = self.db[node_hash]
            node = decode_node(encoded)
            self._seen[node_hash] = node
            self._stored[id(node)] = encoded  # the node is kept in _seen: its id stays its own
        return node


class _Reader:
    """One request's tries: decoded nodes by hash and their stored bytes, shared."""

    def __init__(self, db: Mapping[bytes, bytes]) -> None:
        self.db = db
        self.seen: dict[bytes, Any] = {}
        self.stored: dict[int, bytes] = {}

    def proof(self, root: bytes, key: bytes) -> tuple[list[bytes], bytes]:
        """(proof nodes, value) of ``key`` in the trie at ``root``; the value is b"" when absent."""
        if root == BLANK_ROOT_HASH:
            return [], b""
        trie = _ProofTrie(self.db, root, self.seen, self.stored)
        try:
            nodes = trie.get_proof(key)  # type: ignore[no-untyped-call]
            value = trie.get(key)
        except MissingTrieNode as exc:
            raise NodeError(f"trie node 0x{exc.missing_node_hash.hex()} is missing from the store") from exc
        return [self.stored.get(id(n)) or rlp.encode(n) for n in nodes], value


def _encode_nodes(nodes: Sequence[Any]) -> list[bytes]:
    return [rlp.encode(n) for n in nodes]


def account_proof(
    db: Mapping[bytes, bytes], header: BlockHeaderAPI, address: bytes, slots: Sequence[int]
) -> dict[str, Any]:
    """The EIP-1186 ``eth_getProof`` answer for ``address`` and ``slots`` at ``header``."""
    reader = _Reader(db)
    nodes, encoded = reader.proof(header.state_root, keccak(address))
    if encoded:
        nonce, balance, storage_root, code_hash = rlp.decode(encoded)
        nonce, balance = int.from_bytes(nonce, "big"), int.from_bytes(balance, "big")
    else:  # an absent account: geth reports the empty account's fields
        nonce, balance, storage_root, code_hash = 0, 0, BLANK_ROOT_HASH, keccak(b"")
    storage = []
    for slot in slots:
        key = slot.to_bytes(32, "big")
        slot_nodes, value = reader.proof(storage_root, keccak(key))
        storage.append(
            {
                "key": "0x" + key.hex(),
                "value": hex(int.from_bytes(rlp.decode(value), "big") if value else 0),
                "proof": ["0x" + n.hex() for n in slot_nodes],
            }
        )
    return {
        "address": address,
        "accountProof": ["0x" + n.hex() for n in nodes],
        "balance": hex(balance),
        "codeHash": "0x" + bytes(code_hash).hex(),
        "nonce": hex(nonce),
        "storageHash": "0x" + bytes(storage_root).hex(),
        "storageProof": storage,
    }


def _trie_of(items: Sequence[bytes], root: bytes, what: str, number: int) -> HexaryTrie:
    """The block's trie of ``items`` (built in one pass, as the chain builds it), checked against
    the header's ``root``."""
    built, nodes = ordered_trie(items)
    if built != root:
        raise NodeError(f"block {number}: the stored {what} do not match the header's root")
    return HexaryTrie(nodes, built)


def receipt_proof(
    header: BlockHeaderAPI,
    transactions: Sequence[SignedTransactionAPI],
    receipts: Sequence[ReceiptAPI],
    index: int,
) -> dict[str, Any]:
    """Inclusion proofs of receipt ``index`` against ``header.receipt_root`` and of its
    transaction (whose keccak is the transaction hash) against ``header.transaction_root``.

    Raises:
        NodeError: a rebuilt trie's root differs from the header's (a corrupted store).
    """
    number = header.block_number
    receipt_trie = _trie_of([r.encode() for r in receipts], header.receipt_root, "receipts", number)
    tx_trie = _trie_of([t.encode() for t in transactions], header.transaction_root, "transactions", number)
    key = rlp.encode(index)
    return {
        "blockHash": "0x" + bytes(header.hash).hex(),
        "blockNumber": hex(number),
        "transactionIndex": hex(index),
        "key": "0x" + key.hex(),
        "receiptsRoot": "0x" + bytes(header.receipt_root).hex(),
        "receipt": "0x" + receipts[index].encode().hex(),
        "receiptProof": ["0x" + n.hex() for n in _encode_nodes(receipt_trie.get_proof(key))],  # type: ignore[no-untyped-call]
        "transactionsRoot": "0x" + bytes(header.transaction_root).hex(),
        "transaction": "0x" + transactions[index].encode().hex(),
        "transactionProof": ["0x" + n.hex() for n in _encode_nodes(tx_trie.get_proof(key))],  # type: ignore[no-untyped-call]
    }
