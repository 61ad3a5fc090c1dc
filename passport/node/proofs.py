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
from trie.exceptions import MissingTrieNode
from trie.hexary import HexaryTrie

from passport.exceptions import NodeError
from passport.node.tries import ordered_trie


def _encode_nodes(nodes: Sequence[Any]) -> list[bytes]:
    return [rlp.encode(n) for n in nodes]


def _proof(db: Mapping[bytes, bytes], root: bytes, key: bytes) -> tuple[list[bytes], bytes]:
    """(proof nodes, value) of ``key`` in the trie at ``root``; the value is b"" when absent."""
    if root == BLANK_ROOT_HASH:
        return [], b""
    trie = HexaryTrie(db, root)
    try:
        return _encode_nodes(trie.get_proof(key)), trie.get(key)  # type: ignore[no-untyped-call]
    except MissingTrieNode as exc:
        raise NodeError(f"trie node 0x{exc.missing_node_hash.hex()} is missing from the store") from exc


def account_proof(
    db: Mapping[bytes, bytes], header: BlockHeaderAPI, address: bytes, slots: Sequence[int]
) -> dict[str, Any]:
    """The EIP-1186 ``eth_getProof`` answer for ``address`` and ``slots`` at ``header``."""
    nodes, encoded = _proof(db, header.state_root, keccak(address))
    if encoded:
        nonce, balance, storage_root, code_hash = rlp.decode(encoded)
        nonce, balance = int.from_bytes(nonce, "big"), int.from_bytes(balance, "big")
    else:  # an absent account: geth reports the empty account's fields
        nonce, balance, storage_root, code_hash = 0, 0, BLANK_ROOT_HASH, keccak(b"")
    storage = []
    for slot in slots:
        key = slot.to_bytes(32, "big")
        slot_nodes, value = _proof(db, storage_root, keccak(key))
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
