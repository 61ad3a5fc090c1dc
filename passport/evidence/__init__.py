"""The offline verifier: a passport's claims checked against the consortium's trust anchor from
the proofs the file carries (headers and seals, account, storage and receipt proofs).

Minimal dependencies (rlp, py-trie, eth-keys, eth-hash, eth-abi, pydantic; no web3, no py-evm,
no node), so that a buyer's system can embed it.
"""

from passport.evidence.proven import ProofError, ProvenChain, read_chain_data
from passport.evidence.trust import TrustAnchor
from passport.evidence.verify import Failure, OfflineReport, completeness, verify_offline

__all__ = [
    "Failure",
    "OfflineReport",
    "ProofError",
    "ProvenChain",
    "TrustAnchor",
    "completeness",
    "read_chain_data",
    "verify_offline",
]
