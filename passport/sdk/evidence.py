"""Exporting a passport with its evidence, and the consortium's trust anchor.

The claims are gathered online as ``assemble`` gathers them; then the proofs that back each one
are fetched at the same block: ``eth_getProof`` for the three contracts and every slot a claim
reads, receipt and transaction proofs for every event a claim reads (``passport_getReceiptProof``
on the passport node; on other chains the block's receipts and transactions are fetched and the
tries rebuilt, checked against the header's roots), and the headers with their seals.

Before the file is written, the offline verifier's own reader re-derives the document from the
bundle alone; an export whose proofs do not reproduce the node's answers is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import rlp
from eth_hash.auto import keccak
from trie.hexary import HexaryTrie

from passport._utils.addresses import checksum
from passport.core.compare import diff
from passport.core.derive import ChainData, derive
from passport.core.document import (
    ChainRef,
    DeviceReading,
    Evidence,
    PassportDocument,
    ReceiptRef,
    TelemetryWindow,
    Weighing,
)
from passport.core.events import topic
from passport.core.types import BatchFlag
from passport.evidence import layout
from passport.evidence.disclosed import check_disclosures, tier_gaps
from passport.evidence.facility import FacilityProof, read_facility
from passport.evidence.proven import ProvenChain, read_chain_data
from passport.evidence.quorum import check as check_quorum
from passport.evidence.telemetry import AnchorTx, ProofChain, TelemetryProof, verify_telemetry
from passport.evidence.trust import AnyTrustAnchor, CometTrustAnchor, ContractAnchor, TrustAnchor
from passport.evidence.verify import active_member, completeness
from passport.evidence.weighed import check_readings
from passport.exceptions import ProofError, SdkError
from passport.records.disclosure import Disclosure, Tier, load_tier
from passport.sdk import quorum
from passport.sdk.assembly import gather
from passport.sdk.contracts import Contracts

PROOF_SLOTS_PER_CALL = 500
HEADER_FIELDS = (
    "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom",
    "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData", "mixHash", "nonce",
)  # fmt: skip
# Added by later forks, in order; a header has a prefix of them.
OPTIONAL_FIELDS = (
    "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot",
    "requestsHash",
)  # fmt: skip
INT_FIELDS = {
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "baseFeePerGas",
    "blobGasUsed",
    "excessBlobGas",
}


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def header_rlp(block: dict[str, Any]) -> bytes:
    """The RLP header whose keccak is ``block["hash"]``, from an eth_getBlockBy* answer.

    Raises:
        SdkError: the fields do not hash to the block's hash (a node answering inconsistently).
    """
    fields: list[Any] = []
    for name in HEADER_FIELDS + tuple(f for f in OPTIONAL_FIELDS if block.get(f) is not None):
        value = block[name]
        fields.append(int(value, 16) if name in INT_FIELDS else _bytes(value))
    encoded = rlp.encode(fields)
    if "0x" + keccak(encoded).hex() != block["hash"]:
        raise SdkError(f"block {int(block['number'], 16)}: its fields do not hash to its hash")
    return bytes(encoded)


class _Rpc:
    def __init__(self, contracts: Contracts) -> None:
        self.client = contracts.client

    def one(self, method: str, params: list[Any]) -> Any:
        response = self.client.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if response.get("error"):
            raise SdkError(f"{method}: {response['error'].get('message', response['error'])}")
        return response.get("result")

    def many(self, requests_: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """The answers as the node sent them (one JSON-RPC batch when the provider batches)."""
        if len(requests_) > 1 and self.client.batches_requests:
            return self.client.raw_batch(list(requests_))
        return [self.one(m, p) for m, p in requests_]


class _Collector:
    """Proof nodes, headers and receipts of one bundle, fetched at the anchor block."""

    def __init__(self, contracts: Contracts, data: ChainData) -> None:
        self.rpc = _Rpc(contracts)
        self.data = data
        self.block = data.chain.as_of_block
        self.nodes: set[bytes] = set()
        self.proven_slots: set[tuple[str, int]] = set()
        self.headers: dict[int, dict[str, Any]] = {}
        self.receipts: list[ReceiptRef] = []
        self._has_receipt_proofs: bool | None = None

    # ---------------------------------------------------------------- state

    def storage(self, wanted: Iterable[tuple[str, int]]) -> None:
        by_contract: dict[str, list[int]] = {}
        for address, slot in sorted(set(wanted) - self.proven_slots):
            by_contract.setdefault(address, []).append(slot)
        calls = []
        for address in (self.data.chain.consortium, self.data.chain.passport, self.data.chain.registry):
            slots = by_contract.get(address, [])
            chunks = [slots[n : n + PROOF_SLOTS_PER_CALL] for n in range(0, len(slots), PROOF_SLOTS_PER_CALL)]
            for chunk in chunks or ([[]] if (address, -1) not in self.proven_slots else []):
                keys = ["0x" + s.to_bytes(32, "big").hex() for s in chunk]
                calls.append(("eth_getProof", [address, keys, hex(self.block)]))
        for answer in self.rpc.many(calls):
            address = answer["address"]
            self.nodes.update(_bytes(n) for n in answer["accountProof"])
            self.proven_slots.add((checksum(address), -1))
            for entry in answer["storageProof"]:
                self.nodes.update(_bytes(n) for n in entry["proof"])
                self.proven_slots.add((checksum(address), int(entry["key"], 16)))

    def planned_slots(self) -> list[tuple[str, int]]:
        d = self.data
        p, c, r = d.chain.passport, d.chain.consortium, d.chain.registry
        out: list[tuple[str, int]] = [(p, layout.base_uri_slot())]
        for i, b in d.batches.items():
            out += [(p, layout.record_slot(i)), (p, layout.holding_slot(i)), (p, layout.content_hash_slot(i))]
            if BatchFlag.FROM_PROCESS in b.flags:
                slot = layout.process_inputs_slot(b.parent_ref)
                start = layout.array_data(slot)
                out += [(p, slot)] + [(p, start + n) for n in range(len(d.parents[i]))]
        for f in d.facilities:
            base = layout.facility_slot(f)
            out += [(c, base), (c, layout.member_slot(base, "Facility", "recordRoot"))]
        for s in d.schemas:
            base = layout.schema_slot(s)
            out += [(r, base), (r, layout.member_slot(base, "Schema", "revocable"))]
        for uid, state in d.attestations.items():
            out += [
                (r, layout.attestation_slot(uid)),
                (c, layout.accreditations_slot(state.certifier, state.schema_id)),
            ]
        return out

    # ---------------------------------------------------------------- history

    def blocks(self, numbers: Iterable[int]) -> None:
        wanted = sorted(set(numbers) - set(self.headers))
        blocks = self.rpc.many([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
        seals = self._seals(wanted)
        for n, block, seal in zip(wanted, blocks, seals, strict=True):
            self.headers[n] = {"block": block, "rlp": header_rlp(block), "seal": seal}

    def _seals(self, numbers: list[int]) -> list[str | None]:
        if not numbers:
            return []
        try:
            self.rpc.one("passport_getBlockSeal", [hex(numbers[0])])
        except SdkError:
            return [None] * len(numbers)  # not a passport node: unsealed headers
        answers = self.rpc.many([("passport_getBlockSeal", [hex(n)]) for n in numbers])
        return [a["signature"] if a else None for a in answers]

    def receipt_proofs(self, tx_hashes: list[str]) -> None:
        if not tx_hashes:
            return
        if self._has_receipt_proofs is None:
            try:
                self.rpc.one("passport_getReceiptProof", [tx_hashes[0]])
                self._has_receipt_proofs = True
            except SdkError:
                self._has_receipt_proofs = False
        if self._has_receipt_proofs:
            answers = self.rpc.many([("passport_getReceiptProof", [h]) for h in tx_hashes])
            for answer in answers:
                self.nodes.update(_bytes(n) for n in answer["receiptProof"] + answer["transactionProof"])
                self.receipts.append(
                    ReceiptRef(block=answer["blockHash"], index=int(answer["transactionIndex"], 16))
                )
            return
        self._rebuilt_receipt_proofs(tx_hashes)

    def _rebuilt_receipt_proofs(self, tx_hashes: list[str]) -> None:
        """For chains without receipt proofs: rebuild each block's receipt and transaction tries
        from its receipts and raw transactions, and check them against the header's roots."""
        receipts = self.rpc.many([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        by_block: dict[int, list[int]] = {}
        for receipt in receipts:
            by_block.setdefault(int(receipt["blockNumber"], 16), []).append(
                int(receipt["transactionIndex"], 16)
            )
        for number, indexes in sorted(by_block.items()):
            block = self.headers[number]["block"]
            all_receipts = self.rpc.one("eth_getBlockReceipts", [hex(number)])
            raw_txs = self.rpc.many([("eth_getRawTransactionByHash", [h]) for h in block["transactions"]])
            receipt_trie = _trie(
                [_receipt_bytes(x) for x in all_receipts], _bytes(block["receiptsRoot"]), number
            )
            tx_trie = _trie([_bytes(x) for x in raw_txs], _bytes(block["transactionsRoot"]), number)
            for index in sorted(set(indexes)):
                key = rlp.encode(index)
                for trie in (receipt_trie, tx_trie):
                    self.nodes.update(rlp.encode(node) for node in trie.get_proof(key))  # type: ignore[no-untyped-call]
                self.receipts.append(ReceiptRef(block=block["hash"], index=index))


def _trie(items: list[bytes], root: bytes, number: int) -> HexaryTrie:
    trie = HexaryTrie({})
    with trie.squash_changes() as batch:
        for n, item in enumerate(items):
            batch[rlp.encode(n)] = item
    if trie.root_hash != root:
        raise SdkError(f"block {number}: its receipts or transactions do not rebuild the header's root")
    return trie


def _receipt_bytes(receipt: dict[str, Any]) -> bytes:
    """A JSON-RPC receipt as the receipts trie holds it (EIP-2718 type byte, then RLP)."""
    logs = [
        [_bytes(log["address"]), [_bytes(t) for t in log["topics"]], _bytes(log["data"])]
        for log in receipt["logs"]
    ]
    body = rlp.encode(
        [
            int(receipt["status"], 16),
            int(receipt["cumulativeGasUsed"], 16),
            _bytes(receipt["logsBloom"]),
            logs,
        ]
    )
    kind = int(receipt.get("type", "0x0"), 16)
    return bytes(body) if kind == 0 else bytes([kind]) + body


def export_with_evidence(
    contracts: Contracts,
    batch_id: int,
    block: int | None = None,
    disclosures: Sequence[Disclosure] | Callable[[PassportDocument], Sequence[Disclosure]] = (),
    tier: str | Tier | None = None,
    members: Sequence[str] = (),
    readings: Sequence[Weighing] = (),
    trust: CometTrustAnchor | None = None,
    allow_missing: bool = False,
) -> PassportDocument:
    """``batch_id``'s passport at ``block`` (default: latest) with the evidence that proves it,
    and ``disclosures`` (made at ``tier``; or a function of the passport that makes them, so the
    lineage is read once) with the proofs of the roots they hang from, and the
    member records of ``members`` (a credential's issuer) with theirs, and the device ``readings``
    that weighed its lots with the anchors and device bindings they need. The version hash is
    recorded. On a CometBFT network the headers are proven by commits (``passport.sdk.quorum``),
    the anchor block's reached from ``trust``'s height when it is given, and checked against it.

    ``tier`` (a shipped tier's name, a tier file, or a ``Tier``) is a promise the verifier
    checks: every lineage record on chain disclosed with the fields the tier reveals. Its rules
    travel in the file (``tier_spec``); the proofs that show which records are on chain (every
    lineage member's profile root, every lineage batch's appended document roots) are included.

    Raises:
        ContractRevert: ``BatchNotFound``.
        SdkError: the node's proofs do not reproduce its own answers, or ``disclosures`` lack
            records or fields ``tier`` reveals (named; with ``allow_missing`` the passport is
            exported with them listed in ``tier_missing`` instead). Nothing is written then.
    """
    rules = load_tier(tier) if isinstance(tier, str) else tier
    try:
        _Rpc(contracts).one("eth_getProof", [contracts.passport.address, [], "latest"])
    except Exception as exc:  # a provider may raise rather than answer with an error
        raise SdkError(
            f"{contracts.client.url}: the chain answers no eth_getProof ({exc}); a passport with evidence "
            "needs a chain that does (the passport node, anvil, geth, Besu), or export it without evidence"
        ) from exc
    data = gather(contracts, batch_id, block)
    document = derive(data, batch_id)
    if callable(disclosures):
        disclosures = disclosures(document)
    collector = _Collector(contracts, data)
    c = data.chain.consortium
    named_members = {s for k, s in document.record_subjects() if k == "member"}
    profiles = {checksum(d.subject) for d in disclosures if d.kind == "member"}
    if rules is not None and rules.patterns("member"):
        profiles |= {checksum(m) for m in named_members}
    collector.storage(
        collector.planned_slots()
        + [(c, layout.profile_root_slot(m)) for m in sorted(profiles)]
        + [(c, layout.member_record_slot(m)) for m in members]
        + [(c, layout.telemetry_anchor_slot(w.window.root)) for w in readings]
        + [(c, layout.device_slot(w.reading.device)) for w in readings]
    )
    appended_txs = {d.anchor_tx for d in disclosures if d.anchor_tx is not None}
    if rules is not None and rules.patterns("batch"):  # the verifier finds each batch's latest root
        ids = [n.batch_id.to_bytes(32, "big") for n in document.lineage.nodes]
        logs = contracts.client.get_logs(
            [data.chain.passport], [topic("BatchDocumentsAdded"), ids], data.chain.as_of_block
        )
        appended_txs |= {str(log["transactionHash"]) for log in logs}
    appended = sorted(appended_txs)
    appended_blocks = [
        int(r["blockNumber"], 16)
        for r in collector.rpc.many([("eth_getTransactionReceipt", [h]) for h in appended])
    ]
    tx_hashes = sorted({e.tx_hash for e in data.events} | set(appended), key=lambda h: h)
    cited = [data.chain.as_of_block, *{e.block for e in data.events}, *appended_blocks]
    consensus = None
    if quorum.is_cometbft(collector.rpc.one):
        links, committed = quorum.plan_links(data.chain.as_of_block, cited)
        consensus = quorum.consensus_evidence(collector.rpc.one, data.chain.as_of_block, committed, trust)
        cited += links
    collector.blocks(cited)
    collector.receipt_proofs(tx_hashes)

    def parts() -> tuple[list[bytes], list[bytes], list[bytes]]:
        numbers = sorted(collector.headers)
        headers = [collector.headers[n]["rlp"] for n in numbers]
        seals = [
            _bytes(collector.headers[n]["seal"]) if collector.headers[n]["seal"] else b"" for n in numbers
        ]
        return headers, seals, sorted(collector.nodes)

    def bundle(statements: dict[str, str], proofs: str = "") -> Evidence:
        receipts = sorted(collector.receipts, key=lambda r: (r.block, r.index))
        return Evidence(
            anchor=data.chain.as_of_block_hash,
            receipts=receipts,
            completeness=statements,
            proofs=proofs,
            consensus=consensus,
        )

    # Read the bundle as the offline verifier will; fetch what the plan missed (long strings'
    # data, accreditation windows), until the claims derive from proofs alone.
    for _ in range(8):
        chain = ProvenChain(bundle({}), parts())
        try:
            proven = read_chain_data(chain, data.chain, batch_id)
            break
        except ProofError:
            missing = _missing_reads(chain, data, batch_id, collector)
            if not missing:
                raise
            collector.storage(missing)
    else:
        raise SdkError("the evidence could not be completed")
    derived = derive(proven.data, batch_id)
    mismatches = diff(document.claims(), derived.claims())
    if mismatches:
        raise SdkError(f"the node's proofs do not reproduce its answers: {mismatches[0]}")
    statements, failures = completeness(proven, batch_id)
    if failures:
        raise SdkError(f"the evidence is incomplete: {failures[0]}")
    refused = check_disclosures(chain, derived, list(disclosures))
    if refused:
        raise SdkError(f"a disclosure does not verify against the chain: {refused[0][0]}: {refused[0][1]}")
    lacking: list[str] = []
    if rules is not None:
        gaps, broken = tier_gaps(chain, derived, list(disclosures), rules)
        if broken:
            raise SdkError(f"the tier's proofs are incomplete: {broken[0][0]}: {broken[0][1]}")
        lacking = [item for item, _ in gaps]
        if gaps and not allow_missing:
            raise SdkError(
                f"the disclosures lack what the {rules.tier} tier reveals (export with the vault that "
                "holds them, or allow missing records to mark the passport incomplete): "
                + "; ".join(f"{item}: {why}" for item, why in gaps)
            )
    weighed = check_readings(chain, derived, list(readings))
    if weighed:
        raise SdkError(
            f"a device reading does not verify against the chain: {weighed[0][0]}: {weighed[0][1]}"
        )
    for member in members:
        refused_member = active_member(member, c)(chain, proven)
        if refused_member:
            raise SdkError(f"{refused_member[0]}")
    for address in (data.chain.consortium, data.chain.passport, data.chain.registry):
        chain.account(address)  # the verifier checks all three code hashes
    if trust is not None:
        _, refused_commits = check_quorum(consensus, trust, chain)
        if refused_commits:
            where, why = refused_commits[0]
            raise SdkError(f"the commits do not verify against the trust anchor: {where}: {why}")
    used = chain.pool.read
    collector.nodes = {n for n in collector.nodes if keccak(n) in used}
    return document.model_copy(
        update={
            "evidence": bundle(statements, Evidence.pack(*parts())),
            "tier": None if rules is None else rules.tier,
            "tier_spec": rules,
            "tier_missing": lacking,
            "disclosures": list(disclosures),
            "readings": list(readings),
        }
    ).versioned()


def _missing_reads(
    chain: ProvenChain, data: ChainData, batch_id: int, collector: _Collector
) -> list[tuple[str, int]]:
    """Slots the reader asked for that have no proof yet, found by reading with a recording
    storage that answers from the node."""
    asked: list[tuple[str, int]] = []
    original = chain.storage

    def recording(address: str, slot: int, what: str) -> int:
        try:
            return original(address, slot, what)
        except ProofError:
            asked.append((address, slot))
            value = collector.rpc.one("eth_getStorageAt", [address, hex(slot), hex(data.chain.as_of_block)])
            return int(value, 16)

    chain.storage = recording  # type: ignore[method-assign]
    with contextlib.suppress(ProofError):
        read_chain_data(chain, data.chain, batch_id)
    return asked


def trust_anchor(
    contracts: Contracts,
    name: str,
    labels: dict[str, str] | None = None,
    trusting_period: int = quorum.DEFAULT_TRUSTING_PERIOD,
) -> AnyTrustAnchor:
    """The consortium's trust anchor, read from the chain the SDK is attached to: genesis hash,
    the three contracts with their code hashes, and who proves blocks: a CometBFT network's
    validator set at its latest height (``trust-anchor@2``; ``labels`` name members by account,
    ``trusting_period`` in seconds), the passport node's sealers, or nobody (other chains)."""
    rpc = _Rpc(contracts)
    client = contracts.client
    genesis = rpc.one("eth_getBlockByNumber", ["0x0", False])
    anchors = {}
    for key, contract in (
        ("consortium", contracts.consortium),
        ("passport", contracts.passport),
        ("registry", contracts.registry),
    ):
        code = bytes(client.w3.eth.get_code(contract.address))
        if not code:
            raise SdkError(f"{key} contract {contract.address} has no code")
        anchors[key] = ContractAnchor(address=contract.address, code_hash="0x" + keccak(code).hex())
    if quorum.is_cometbft(rpc.one):
        return quorum.trust_anchor(
            rpc.one, name, client.chain_id, genesis["hash"], anchors, labels or {}, trusting_period
        )
    try:
        info = rpc.one("passport_getGenesis", [])
        validators = list(info["genesis"]["validators"])
    except SdkError:
        validators = []
    return TrustAnchor(
        name=name,
        chain_id=client.chain_id,
        genesis_hash=genesis["hash"],
        sealed=bool(validators),
        seal_scheme="passport-node/v1" if validators else None,
        validators=validators,
        contracts=anchors,  # type: ignore[arg-type]
    )


def telemetry_proof(
    contracts: Contracts,
    reading: DeviceReading,
    window: TelemetryWindow,
    window_proof: Sequence[str],
    anchor_tx: str,
    trust: CometTrustAnchor | None = None,
) -> TelemetryProof:
    """``reading``, in ``window`` (``window_proof``), with the evidence that proves the window's
    anchor at the block of ``anchor_tx`` (the ``anchorTelemetry`` transaction): that block's
    header (and its seal, or on a CometBFT network the commits that prove it, from ``trust``'s
    height when given), the transaction's receipt, and storage proofs there of the window's
    anchor and of the device's binding. Checked as the offline verifier will before it is
    returned.

    Raises:
        SdkError: no such transaction, a chain without eth_getProof, or proofs that do not
            show the window anchored for the reading's facility with its device bound there.
    """
    receipt = _Rpc(contracts).one("eth_getTransactionReceipt", [anchor_tx])
    if receipt is None:
        raise SdkError(f"transaction {anchor_tx}: the chain does not have it (is the window anchored?)")
    block = int(receipt["blockNumber"], 16)
    c = contracts.consortium.address
    slots = [(c, layout.telemetry_anchor_slot(window.root)), (c, layout.device_slot(reading.device))]
    ref, evidence = _bundle_at(contracts, block, slots, [anchor_tx], trust)
    proof = TelemetryProof(
        chain=_proof_chain(ref),
        reading=reading,
        window=window,
        window_proof=list(window_proof),
        anchor=AnchorTx(tx=anchor_tx, block=block),
        evidence=evidence,
    )
    anchor = trust if trust is not None else trust_anchor(contracts, "the chain itself")
    checked = verify_telemetry(proof, anchor)
    if not checked.ok:
        raise SdkError(f"the reading's proofs do not verify: {checked.failures[0]}")
    return proof


def _proof_chain(ref: ChainRef) -> ProofChain:
    return ProofChain(
        chain_id=ref.chain_id, consortium=ref.consortium, passport=ref.passport, registry=ref.registry
    )


def _bundle_at(
    contracts: Contracts,
    block: int,
    slots: Sequence[tuple[str, int]],
    tx_hashes: Sequence[str],
    trust: CometTrustAnchor | None,
) -> tuple[ChainRef, Evidence]:
    """Evidence at ``block`` of the storage ``slots`` (and the three contracts' accounts) and of
    the receipts of ``tx_hashes``: the block's header with its seal, or on a CometBFT network the
    commits that prove it (from ``trust``'s height when given).

    Raises:
        SdkError: a chain without eth_getProof.
    """
    rpc = _Rpc(contracts)
    header = rpc.one("eth_getBlockByNumber", [hex(block), False])
    if header is None:
        raise SdkError(f"block {block}: the chain does not have it")
    ref = ChainRef(
        chain_id=contracts.client.chain_id,
        consortium=contracts.consortium.address,
        passport=contracts.passport.address,
        registry=contracts.registry.address,
        as_of_block=block,
        as_of_block_hash=header["hash"],
        as_of_time=int(header["timestamp"], 16),
    )
    nothing = ChainData(ref, {}, {}, {}, {}, "", [], {}, {}, {})  # no passport: only the slots given
    collector = _Collector(contracts, nothing)
    try:
        collector.storage(slots)
    except SdkError as exc:
        raise SdkError(f"{contracts.client.url}: the chain answers no eth_getProof ({exc})") from exc
    consensus = None
    if quorum.is_cometbft(collector.rpc.one):
        consensus = quorum.consensus_evidence(collector.rpc.one, block, [], trust)
    collector.blocks([block])
    collector.receipt_proofs(list(tx_hashes))
    numbers = sorted(collector.headers)
    headers = [collector.headers[n]["rlp"] for n in numbers]
    seals = [_bytes(collector.headers[n]["seal"]) if collector.headers[n]["seal"] else b"" for n in numbers]
    evidence = Evidence(
        anchor=ref.as_of_block_hash,
        receipts=collector.receipts,
        completeness={},
        proofs=Evidence.pack(headers, seals, sorted(collector.nodes)),
        consensus=consensus,
    )
    return ref, evidence


def facility_proof(
    contracts: Contracts,
    facility_id: int,
    disclosure: Disclosure | None = None,
    block: int | None = None,
    trust: CometTrustAnchor | None = None,
) -> FacilityProof:
    """Facility ``facility_id`` at ``block`` (the head when None) with the evidence that proves
    it offline (its slots, its record root, its operator's membership) and ``disclosure`` of its
    record; checked as the offline verifier will before it is returned.

    Raises:
        SdkError: no such facility, or proofs or a disclosure that do not verify.
    """
    if block is None:
        block = contracts.client.head()[0]
    c = contracts.consortium.address
    operator, *_ = contracts.consortium.functions.facility(facility_id).call(block_identifier=block)
    if int(operator, 16) == 0:
        raise SdkError(f"facility {facility_id} does not exist at block {block}")
    base = layout.facility_slot(facility_id)
    slots = [
        (c, base),
        (c, layout.member_slot(base, "Facility", "recordRoot")),
        (c, layout.member_record_slot(operator)),
    ]
    ref, evidence = _bundle_at(contracts, block, slots, [], trust)
    proof = FacilityProof(
        chain=_proof_chain(ref), facility_id=facility_id, evidence=evidence, disclosure=disclosure
    )
    anchor = trust if trust is not None else trust_anchor(contracts, "the chain itself")
    proven = read_facility(proof, anchor)
    if not proven.ok:
        raise SdkError(f"the facility's proofs do not verify: {proven.failures[0]}")
    return proof
