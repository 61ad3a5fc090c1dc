"""The offline verifier: a passport's claims checked against the consortium's trust anchor from
the proofs the file carries (headers with seals or CometBFT commits, account, storage and receipt
proofs).

Minimal dependencies (rlp, py-trie, eth-keys, eth-hash, eth-abi, pydantic, protobuf and
cryptography for CometBFT commits; no web3, no py-evm, no node), so that a buyer's system can
embed it.
"""

from passport.core.compare import Failure
from passport.evidence.proven import ProvenChain, read_chain_data
from passport.evidence.quorum import Quorum
from passport.evidence.trust import AnyTrustAnchor, CometTrustAnchor, TrustAnchor, load_trust_anchor
from passport.evidence.verify import OfflineReport, completeness, verify_offline
from passport.exceptions import ProofError

__all__ = [
    "AnyTrustAnchor",
    "CometTrustAnchor",
    "Failure",
    "OfflineReport",
    "ProofError",
    "ProvenChain",
    "Quorum",
    "TrustAnchor",
    "completeness",
    "load_trust_anchor",
    "read_chain_data",
    "verify_offline",
]
