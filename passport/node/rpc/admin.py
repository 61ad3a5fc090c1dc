"""Besu's ``perm_*`` allowlist methods and the node's own ``passport_*`` methods."""

from __future__ import annotations

from typing import Any

import rlp
from eth_utils import to_checksum_address

from passport._utils.seals import seal_signer
from passport.exceptions import RpcError
from passport.node.rpc.base import Namespace, method
from passport.node.rpc.codes import SERVER_ERROR
from passport.node.rpc.formatting import hex_bytes
from passport.node.rpc.params import BlockRef, Param, address, block_or_hash, list_of, text, uint64

ACCOUNTS = Param("accounts", list_of(address, min_items=1))
MAX_BLOCKS_RLP = 256


class AdminMethods(Namespace):
    @method("perm_getAccountsAllowlist")
    def allowlist(self) -> list[str]:
        with self.chain.lock:
            return self.chain.allowlist()

    @method("perm_addAccountsToAllowlist", ACCOUNTS, scope="admin")
    def allowlist_add(self, accounts: list[bytes]) -> str:
        self.chain.set_allowlisted(accounts, True)
        return "Success"

    @method("perm_removeAccountsFromAllowlist", ACCOUNTS, scope="admin")
    def allowlist_remove(self, accounts: list[bytes]) -> str:
        with self.chain.lock:
            missing = [to_checksum_address(a) for a in accounts if not self.chain.allowlisted(a)]
            if missing:
                # Besu answers every allowlist refusal with -32000
                raise RpcError(SERVER_ERROR, f"accounts not on the allowlist: {', '.join(missing)}")
            self.chain.set_allowlisted(accounts, False)
        return "Success"

    @method("passport_getBlockSeal", Param("block", block_or_hash))
    def block_seal(self, ref: BlockRef) -> Any:
        with self.chain.lock:
            header = self.chain.header_by_hash(ref.hash) if ref.hash else self.header(ref, missing_ok=True)
            if header is None:
                return None
            seal = self.chain.seal(header.hash)
        return {
            "blockNumber": hex(header.block_number),
            "blockHash": hex_bytes(header.hash),
            "signature": hex_bytes(seal) if seal else None,
            "signer": seal_signer(self.chain.chain_id, header.hash, seal) if seal else None,
        }

    @method("passport_getBlocksRlp", Param("start", uint64), Param("count", uint64))
    def blocks_rlp(self, first: int, count: int) -> list[dict[str, str]]:
        out = []
        with self.chain.lock:
            for number in range(first, first + min(count, MAX_BLOCKS_RLP)):
                header = self.chain.header_by_number(number)
                if header is None:
                    break
                block, _ = self.chain.block_and_receipts(header)
                seal = self.chain.seal(header.hash) or b""
                out.append({"block": hex_bytes(rlp.encode(block)), "seal": hex_bytes(seal)})
        return out

    @method("passport_getGenesis")
    def genesis(self) -> dict[str, Any]:
        return {"genesis": self.chain.genesis.to_json(), "hash": hex_bytes(self.chain.genesis_hash)}

    @method("passport_validators")
    def validators(self) -> list[dict[str, Any]]:
        return self.node.validators()

    @method("passport_lightBlock", Param("height", uint64, optional=True))
    def light_block(self, height: int | None) -> dict[str, Any] | None:
        """CometBFT's signed header and validator set at ``height`` (null: the latest committed),
        as its own RPC gives them; null for a height not committed yet."""
        return self.node.light_block(height)

    @method("passport_nodeInfo")
    def node_info(self) -> dict[str, Any]:
        return self.node.info()

    # A replica reports its head with a token of its own wherever the sealer requires tokens.
    @method("passport_reportReplicaHead", Param("replica", text(64)), Param("number", uint64), scope="write")
    def report_replica_head(self, replica: str, number: int) -> bool:
        self.node.record_replica(replica, number)
        return True
