"""A CometBFT network's passport: its EVM headers proven by the quorum's commits.

Against a ``trust-anchor@2``: the evidence's ``consensus.path`` is verified from the anchor's
trusted state to the anchor block's commit (the header at the anchor block's height + 1, whose
``app_hash`` is the anchor block's hash); each of ``consensus.commits`` (the header at N + 1 for a
cited block N) is vouched for by a trusted set; every other EVM header is the parent
(``parentHash``) of a proven one. The report names who signed the anchor block's commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from passport.core.document import ConsensusEvidence
from passport.evidence.proven import Header, ProvenChain
from passport.evidence.trust import CometTrustAnchor
from passport.exceptions import ProofError

if TYPE_CHECKING:  # the CometBFT light client (protobuf, ed25519) loads only for a v2 anchor
    from passport.evidence.cometbft import LightBlock, Tally, Time, Trusted


@dataclass(frozen=True)
class Quorum:
    """Who committed the passport's anchor block: their names, count and share of the power."""

    height: int
    signers: tuple[str, ...]
    signed: int
    validators: int
    percent: float

    def __str__(self) -> str:
        return (
            f"signed by {self.signed} of {self.validators} validators, {self.percent:.0f} % of the power: "
            + ", ".join(self.signers)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "signers": list(self.signers),
            "signed": self.signed,
            "validators": self.validators,
            "percent": round(self.percent, 2),
        }


def trusted_state(anchor: CometTrustAnchor) -> Trusted:
    """The anchor's header and validator set, checked against each other.

    Raises:
        ProofError: the header does not name this set, or is not the anchor's chain's.
    """
    from passport.evidence import cometbft
    from passport.evidence.cometbft import Trusted

    c = anchor.cometbft
    header = cometbft.read_header(c.header, "trust anchor header")
    validators = cometbft.read_validators([v.rpc() for v in c.validators], "trust anchor validators")
    if header.chain_id != c.chain_id or header.height != c.height:
        raise ProofError("trust anchor header", "is not the header of the anchor's chain id and height")
    if header.validators_hash != validators.hash():
        raise ProofError("trust anchor validators", "do not hash to the trusted header's validators_hash")
    return Trusted(header, validators)


def light_block(signed: Any, sets: Mapping[str, Any], what: str) -> LightBlock:
    """A light block from a ``signed_header`` and the evidence's validator sets by hash."""
    from passport.evidence import cometbft

    if not isinstance(signed, Mapping):
        raise ProofError(what, "not a signed header")
    header = signed.get("header")
    wanted = header.get("validators_hash") if isinstance(header, Mapping) else None
    validators = sets.get(wanted) if isinstance(wanted, str) else None
    if validators is None:
        raise ProofError(what, f"no validator set with the header's validators_hash {wanted}")
    return cometbft.read_light_block(
        {"signed_header": signed, "validator_set": {"validators": validators}}, what
    )


def check(
    consensus: ConsensusEvidence | None,
    anchor: CometTrustAnchor,
    chain: ProvenChain,
    now: Time | None = None,
) -> tuple[Quorum | None, list[tuple[str, str]]]:
    """Prove the bundle's EVM headers by CometBFT commits: (the anchor block's quorum, failures
    as (where, why))."""
    from passport.evidence import cometbft

    if consensus is None:
        return None, [
            ("evidence.consensus", "no CometBFT commits, and the trust anchor is a CometBFT network's")
        ]
    moment = now if now is not None else cometbft.now()
    period = anchor.cometbft.trusting_period_seconds
    try:
        trusted = trusted_state(anchor)
        sets = consensus.validator_sets
        path = [light_block(s, sets, f"evidence.consensus.path[{n}]") for n, s in enumerate(consensus.path)]
        tally, states = cometbft.verify_path(trusted, path, period, moment, "evidence.consensus.path")
    except ProofError as exc:
        return None, [(exc.what, exc.reason)]
    failures: list[tuple[str, str]] = []
    a = chain.anchor
    last = path[-1]
    if last.height != a.number + 1:
        failures.append(
            (
                "evidence.consensus.path",
                f"ends at height {last.height}; the anchor block {a.number} is proven by height "
                f"{a.number + 1}",
            )
        )
    elif last.header.app_hash != a.hash:
        failures.append(
            (
                "evidence.consensus.path",
                f"the app_hash at height {last.height} is 0x{last.header.app_hash.hex()}, "
                f"not the anchor block's hash 0x{a.hash.hex()}",
            )
        )
    proven: set[bytes] = {a.hash} if not failures else set()
    by_number: dict[int, list[Header]] = {}
    for h in chain.headers.values():
        by_number.setdefault(h.number, []).append(h)
    for n, signed in enumerate(consensus.commits):
        what = f"evidence.consensus.commits[{n}]"
        try:
            block = light_block(signed, sets, what)
            cometbft.verify_vouched(states, block, period, moment, what)
        except ProofError as exc:
            failures.append((exc.what, exc.reason))
            continue
        matches = [h for h in by_number.get(block.height - 1, []) if h.hash == block.header.app_hash]
        if not matches:
            failures.append(
                (what, f"its app_hash is the hash of no evidence header of block {block.height - 1}")
            )
            continue
        proven.add(matches[0].hash)
    # parentHash links: a proven header's parent is proven
    frontier = list(proven)
    while frontier:
        header = chain.headers.get(frontier.pop())
        if header is not None and header.parent_hash in chain.headers and header.parent_hash not in proven:
            proven.add(header.parent_hash)
            frontier.append(header.parent_hash)
    for n, h in enumerate(chain.headers.values()):
        if h.hash not in proven and not failures:
            failures.append(
                (
                    f"evidence header {n} (block {h.number})",
                    "proven by no commit and linked to none by parentHash",
                )
            )
    return quorum(tally, anchor, last.height), failures


def quorum(tally: Tally, anchor: CometTrustAnchor, height: int) -> Quorum:
    names = anchor.names()
    signers = tuple(
        names.get(v.address.hex().upper(), "validator " + v.address.hex().upper()[:12]) for v in tally.signers
    )
    return Quorum(height, signers, len(tally.signers), tally.set_size, tally.percent)
