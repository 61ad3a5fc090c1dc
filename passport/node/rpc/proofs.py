"""Proofs: ``eth_getProof`` (EIP-1186) and ``passport_getReceiptProof``."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from passport.node.proofs import account_proof, receipt_proof
from passport.node.rpc.base import Namespace, method
from passport.node.rpc.params import BlockRef, Param, address, block_or_hash, hash32, list_of, storage_slot

MAX_PROOF_SLOTS = 1_000


class ProofMethods(Namespace):
    @method(
        "eth_getProof",
        Param("address", address),
        Param("storageKeys", list_of(storage_slot, max_items=MAX_PROOF_SLOTS)),
        Param("block", block_or_hash),
    )
    def get_proof(self, account: bytes, slots: list[int], at: BlockRef) -> Any:
        with self.chain.lock:
            header = self.header(at)
            answer = account_proof(self.chain.store, header, bytes(account), slots)
        answer["address"] = to_checksum_address(account)
        return answer

    @method("passport_getReceiptProof", Param("transactionHash", hash32))
    def get_receipt_proof(self, tx_hash: bytes) -> Any:
        return self.at_transaction(tx_hash, receipt_proof)
