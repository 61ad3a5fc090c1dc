"""A CometBFT network's side of exporting: the trust anchor v2, and the light blocks that prove a
passport's EVM headers (``passport_lightBlock`` on a member's node, which serves what its
``cometbft`` serves).

The anchor block H is proven by the signed header at H + 1 (its ``app_hash`` is H's hash),
reached from the buyer's trust anchor by CometBFT's skipping verification: straight from the
anchor when its validators still hold more than 1/3 of the power that signed, else through a
pivot half-way, as the light client bisects. A cited block N is linked to a proven block above it
by the ``parentHash`` headers in between when there are at most ``LINK_MAX`` of them (an EVM
header is about a quarter of a commit's size), else proven by its own commit at N + 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from passport.core.document import ConsensusEvidence
from passport.evidence import cometbft
from passport.evidence.cometbft import LightBlock, Trusted
from passport.evidence.quorum import trusted_state
from passport.evidence.trust import AnchorValidator, CometAnchor, CometTrustAnchor, ContractAnchor
from passport.exceptions import ProofError, SdkError

LINK_MAX = 4
COMMIT_WAIT_SECONDS = 30.0
DEFAULT_TRUSTING_PERIOD = 365 * 24 * 3600  # a year: anchors are re-exported well before it ends

Rpc = Callable[[str, list[Any]], Any]


def is_cometbft(rpc: Rpc) -> bool:
    """Whether the node runs CometBFT (answers ``passport_lightBlock``)."""
    try:
        return rpc("passport_lightBlock", []) is not None
    except SdkError:
        return False


def fetch_light_block(rpc: Rpc, height: int, wait: float = COMMIT_WAIT_SECONDS) -> dict[str, Any]:
    """The light block at ``height``, waiting up to ``wait`` seconds for it to be committed.

    Raises:
        SdkError: not committed in time.
    """
    deadline = time.monotonic() + wait
    while True:
        answer = rpc("passport_lightBlock", [hex(height)])
        if answer is not None:
            return dict(answer)
        if time.monotonic() > deadline:
            raise SdkError(f"CometBFT has not committed height {height} after {wait:.0f} s")
        time.sleep(0.25)


def _read(answer: Mapping[str, Any], what: str) -> LightBlock:
    try:
        return cometbft.read_light_block(answer, what)
    except ProofError as exc:
        raise SdkError(f"the node's light block {exc}") from exc


def trust_anchor(
    rpc: Rpc,
    name: str,
    chain_id: int,
    genesis_hash: str,
    contracts: dict[str, ContractAnchor],
    labels: Mapping[str, str],
    trusting_period: int = DEFAULT_TRUSTING_PERIOD,
) -> CometTrustAnchor:
    """A ``trust-anchor@2`` at the latest committed height; ``labels`` names members by account.

    Raises:
        SdkError: the node's latest header is not committed by more than 2/3 of its set.
    """
    answer = rpc("passport_lightBlock", [])
    block = _read(answer, "latest")
    try:
        cometbft.validate_signed_header(block, block.header.chain_id, "latest")
        cometbft.verify_commit(block.header.chain_id, block.validators, block, "latest")
    except ProofError as exc:
        raise SdkError(f"the node's latest commit does not verify: {exc}") from exc
    accounts = {v["address"]: v.get("account") for v in rpc("passport_validators", [])}
    labelled = {k.lower(): v for k, v in labels.items()}
    validators = []
    for v in answer["validator_set"]["validators"]:
        account = accounts.get(v["address"])
        validators.append(
            AnchorValidator(
                address=v["address"],
                pub_key=dict(v["pub_key"]),
                voting_power=str(v["voting_power"]),
                account=account,
                name=labelled.get(account.lower()) if account else None,
            )
        )
    header = answer["signed_header"]["header"]
    return CometTrustAnchor(
        name=name,
        chain_id=chain_id,
        genesis_hash=genesis_hash,
        cometbft=CometAnchor(
            chain_id=header["chain_id"],
            height=int(header["height"]),
            time=header["time"],
            header=header,
            validators=validators,
            trusting_period_seconds=trusting_period,
        ),
        contracts=contracts,  # type: ignore[arg-type]
    )


def plan_links(anchor_number: int, cited: Sequence[int]) -> tuple[list[int], list[int]]:
    """(EVM blocks whose headers link cited blocks by parentHash, cited blocks proven by their
    own commit), walking down from the anchor block."""
    links: list[int] = []
    committed: list[int] = []
    frontier = anchor_number
    for n in sorted(set(cited), reverse=True):
        if n >= frontier:
            continue
        if frontier - n - 1 <= LINK_MAX:
            links += range(n + 1, frontier)
        else:
            committed.append(n)
        frontier = n
    return links, committed


def _path(
    fetch: Callable[[int], dict[str, Any]], trusted: Trusted, target: LightBlock, period: int, depth: int = 0
) -> list[LightBlock]:
    """Light blocks from ``trusted`` to ``target``, each verifiable from the one before."""
    now = cometbft.now()
    try:
        if target.height <= trusted.header.height:
            cometbft.verify_vouched([trusted], target, period, now, "target")
        else:
            cometbft.verify(trusted, target, period, now, "target")
        return [target]
    except ProofError as exc:
        if "cannot be trusted" not in exc.reason or depth > 32:
            raise SdkError(f"no light-client path from the trust anchor: {exc}") from exc
    pivot = (trusted.header.height + target.height) // 2
    if pivot <= trusted.header.height or pivot >= target.height:
        raise SdkError(f"no light-client path from height {trusted.header.height} to {target.height}")
    middle = _read(fetch(pivot), f"height {pivot}")
    first = _path(fetch, trusted, middle, period, depth + 1)
    return first + _path(fetch, Trusted(middle.header, middle.validators), target, period, depth + 1)


def consensus_evidence(
    rpc: Rpc, anchor_number: int, committed: Sequence[int], trust: CometTrustAnchor | None
) -> ConsensusEvidence:
    """The light blocks that prove block ``anchor_number`` (from ``trust``'s height when given)
    and each block of ``committed``."""
    fetched: dict[int, dict[str, Any]] = {}

    def fetch(height: int) -> dict[str, Any]:
        if height not in fetched:
            fetched[height] = fetch_light_block(rpc, height)
        return fetched[height]

    target_answer = fetch(anchor_number + 1)
    answers = [target_answer]
    if trust is not None:
        try:
            trusted = trusted_state(trust)
        except ProofError as exc:
            raise SdkError(f"the trust anchor: {exc}") from exc
        target = _read(target_answer, f"height {anchor_number + 1}")
        steps = _path(fetch, trusted, target, trust.cometbft.trusting_period_seconds)
        answers = [fetch(b.height) for b in steps]
    commits = [fetch(n + 1) for n in committed]
    sets: dict[str, list[dict[str, Any]]] = {}
    for answer in answers + commits:
        header = answer["signed_header"]["header"]
        sets[header["validators_hash"]] = answer["validator_set"]["validators"]
    return ConsensusEvidence(
        validator_sets=sets,
        path=[a["signed_header"] for a in answers],
        commits=[a["signed_header"] for a in commits],
    )
