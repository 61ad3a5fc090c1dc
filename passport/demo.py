"""The tungsten scenario: two Vietnamese mines to an EU chip fab, on any chain.

Run by ``passport demo`` (``make demo``) on the embedded chain. Every step goes through the
public SDK, so the scenario doubles as an end-to-end example for integrators.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from passport.core.types import FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.evidence import verify_offline
from passport.exceptions import SdkError
from passport.sdk import AttestationRequest, Call, Client, Founder, PassportDocument, PolicyResult, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from passport.sdk.telemetry import MerkleTree, Reading, sign_reading

DAY = 86_400
STEPS = 10  # top-level messages `run` reports, for progress bars
# Seed of the demo devices' keys (a real weighbridge holds its own key in hardware).
SCALE_KEY = keccak(b"mineral-passport demo weighbridge")


@dataclass
class DemoResult:
    """What the scenario produced."""

    batches: dict[str, int] = field(default_factory=dict)
    passports: dict[str, Path] = field(default_factory=dict)
    signed_attestation: Path | None = None
    policy_results: list[PolicyResult] = field(default_factory=list)
    verified: bool = False
    verified_offline: bool | None = None
    trust_anchor: Path | None = None
    documents: dict[str, PassportDocument] = field(default_factory=dict)


def run(client: Client, out_dir: Path, say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Run the scenario on ``client`` and write passports and the signed attestation to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    admin, mine_a, mine_b, carrier, refinery, converter, fab, certifier, regulator, _auditor = dev_accounts()
    roles = {
        "admin": Role.ADMIN, "mine-a": Role.MINER, "mine-b": Role.MINER, "carrier": Role.CARRIER,
        "refinery": Role.PROCESSOR, "converter": Role.PROCESSOR, "fab": Role.BUYER,
        "certifier": Role.CERTIFIER, "regulator": Role.REGULATOR | Role.ADMIN, "auditor": Role.BUYER,
    }  # fmt: skip
    countries = {"converter": "KR", "fab": "NL", "certifier": "CH"}
    founders = [
        Founder(acct.address, roles[name], countries.get(name, "VN"))
        for name, acct in zip(DEV_ROLES, dev_accounts(), strict=True)
    ]

    say("Deploying the consortium contracts (1-of-1 admin, 0.5 % hand-over and 1 % assay tolerance)")
    sdk = Sdk.deploy(client, admin, founders, network="demo", directory=out_dir / "deployments", force=True)
    gov, batches, att = sdk.consortium, sdk.batches, sdk.attestations

    say("Registering facilities: two Vietnamese mines, an APT refinery, a WF6 plant in Korea")
    fac = {}
    for name, operator, country, kind in (
        ("mine-a", mine_a, "VN", FacilityKind.MINE),
        ("mine-b", mine_b, "VN", FacilityKind.MINE),
        ("refinery", refinery, "VN", FacilityKind.REFINERY),
        ("wf6-plant", converter, "KR", FacilityKind.CONVERTER),
    ):
        gov.propose_facility(admin, operator.address, country, kind, keccak(text=f"{name} site survey"))
        fac[name] = gov.facility_count()

    say("Registering attestation schemas and accrediting the certifier")
    schemas = {
        "origin-verified": att.register_schema(admin, "origin-verified", True, SubjectKind.BATCH),
        "due-diligence-audited": att.register_schema(
            admin, "due-diligence-audited", True, SubjectKind.FACILITY
        ),
        "assay": att.register_schema(admin, "assay", False, SubjectKind.BATCH),
        "labour-audit": att.register_schema(admin, "labour-audit", True, SubjectKind.FACILITY),
    }
    _block, _hash, now = client.head()
    for schema_id in schemas.values():
        gov.propose_accreditation(admin, certifier.address, schema_id, now + 365 * DAY)

    say("Both mines bind weighbridge keys and anchor signed telemetry in the lots they mint")
    trees, readings = {}, {}
    for name, operator, grams in (("mine-a", mine_a, 12_000_000), ("mine-b", mine_b, 8_000_000)):
        scale = Account.from_key(keccak(SCALE_KEY + name.encode()))
        gov.register_device(operator, scale.address, fac[name])
        readings[name] = [
            Reading(scale.address, fac[name], now, "net-mass", grams, "g"),
            Reading(scale.address, fac[name], now + 60, "moisture", 800, "milli-percent"),
            Reading(scale.address, fac[name], now + 120, "wo3-grade", 65_000, "milli-percent"),
        ]
        signed_readings = [sign_reading(scale, r) for r in readings[name]]
        assert all(r.is_from_device() for r in signed_readings)
        trees[name] = MerkleTree.of_readings(readings[name])
        rows = [{**asdict(r.reading), "signature": "0x" + r.signature.hex()} for r in signed_readings]
        (out_dir / f"telemetry-{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    conc_a = batches.mint(mine_a, fac["mine-a"], Stage.CONCENTRATE, 12_000_000, 515_600, trees["mine-a"].root)
    conc_b = batches.mint(mine_b, fac["mine-b"], Stage.CONCENTRATE, 8_000_000, 515_600, trees["mine-b"].root)
    tree = trees["mine-a"]
    result.batches.update({"concentrate-a": conc_a, "concentrate-b": conc_b})
    proof_ok = sdk.client.call(
        Call(sdk.contracts.passport, "verifyTelemetry", (conc_a, readings["mine-a"][0].leaf(), tree.proof(0)))
    )
    say(f"  telemetry reading 0 proven on-chain against batch {conc_a}'s root: {proof_ok}")

    say("Carrier collects both lots; the refinery takes title and weighs at receipt")
    batches.offer_custody(mine_a, conc_a, carrier.address)
    batches.accept(carrier, conc_a, 12_000_000)
    batches.offer(mine_a, conc_a, refinery.address)
    discrepancy = batches.accept(refinery, conc_a, 11_880_000)  # 1 % short: beyond the 0.5 % tolerance
    say(f"  lot A arrives 120 kg light: discrepancy recorded = {discrepancy}")
    batches.offer_custody(mine_b, conc_b, carrier.address)
    batches.accept(carrier, conc_b, 8_000_000)
    batches.offer(mine_b, conc_b, refinery.address)
    batches.accept(refinery, conc_b, 7_990_000)

    say("Certifier attests: due diligence at both mines, a labour audit, and batch origin signed offline")
    att.attest(
        certifier,
        AttestationRequest(
            schemas["due-diligence-audited"], fac["mine-a"], keccak(text="DD report mine A"), now + 180 * DAY
        ),
    )
    att.attest(
        certifier,
        AttestationRequest(
            schemas["due-diligence-audited"], fac["mine-b"], keccak(text="DD report mine B"), now + 180 * DAY
        ),
    )
    labour = att.attest(
        certifier,
        AttestationRequest(
            schemas["labour-audit"], fac["mine-b"], keccak(text="labour audit mine B"), now + 90 * DAY
        ),
    )
    signed = att.sign(
        certifier,
        AttestationRequest(
            schemas["origin-verified"], conc_a, keccak(text="origin dossier lot A"), now + 365 * DAY
        ),
    )
    result.signed_attestation = out_dir / f"attestation-origin-batch-{conc_a}.json"
    signed.save(result.signed_attestation)
    att.submit(
        refinery, type(signed).load(result.signed_attestation)
    )  # relayed by the refinery from the file
    say(f"  offline-signed origin attestation relayed by the refinery ({result.signed_attestation.name})")

    say("Refinery splits lot A, then makes APT: one line from mine A alone, one blending A and B")
    part_1, part_2 = batches.split(refinery, conc_a, [7_000_000, 5_000_000])
    (apt_blend,) = batches.process(
        refinery,
        [part_1, conc_b],
        fac["refinery"],
        [ProcessOutput(Stage.APT, 10_500_000, 700_000, keccak(text="APT lot 1 assay"))],
    )
    (apt_pure,) = batches.process(
        refinery,
        [part_2],
        fac["refinery"],
        [ProcessOutput(Stage.APT, 3_500_000, 700_000, keccak(text="APT lot 2 assay"))],
    )
    att.attest(
        certifier, AttestationRequest(schemas["assay"], apt_blend, keccak(text="APT lot 1 ICP-OES"), 0)
    )
    result.batches.update(
        {"split-1": part_1, "split-2": part_2, "apt-blend": apt_blend, "apt-mine-a": apt_pure}
    )

    say("The WF6 plant in Korea buys the blended APT and converts it for chip fabs")
    batches.offer(refinery, apt_blend, converter.address)
    batches.accept(converter, apt_blend, 10_500_000)
    wf6_mass = 10_500_000 * 700_000 * 95 // 100 // 617_000  # 95 % yield; WF6 is 61.7 % W
    (wf6,) = batches.process(
        converter,
        [apt_blend],
        fac["wf6-plant"],
        [ProcessOutput(Stage.WF6, wf6_mass, 617_000, keccak(text="WF6 cylinder lot"))],
    )
    batches.offer(converter, wf6, fab.address)
    batches.accept(fab, wf6, wf6_mass)
    result.batches["wf6"] = wf6

    say("The labour audit of mine B is withdrawn; then the regulator learns who controls mine B")
    att.revoke(certifier, labour)
    gov.propose_member_sanction(regulator, mine_b.address, True)
    say("  mine B's operator is sanctioned (after the fact): everything made from its ore is now tainted")

    for label in ("wf6", "apt-mine-a"):
        doc = sdk.passport_for(result.batches[label])
        path = out_dir / f"passport-{label}-batch-{doc.product.batch_id}.json"
        doc.save(path)
        result.passports[label] = path
        result.documents[label] = doc
        for policy in ("dfars-2027", "eu-2017-821"):
            result.policy_results.append(sdk.check(doc, policy))
    report = sdk.verify(PassportDocument.load(result.passports["wf6"]))
    result.verified = report.ok

    say("The WF6 passport is exported with its evidence; a buyer checks it offline against the trust anchor")
    try:
        proven = sdk.export_with_evidence(result.batches["wf6"], doc_block(result))
    except SdkError as exc:
        say(f"  no evidence on this chain: {exc}")
        return result
    result.trust_anchor = out_dir / "consortium.trust.json"
    anchor = sdk.trust_anchor("Demo tungsten consortium")
    anchor.save(result.trust_anchor)
    result.passports["wf6-with-evidence"] = (
        out_dir / f"passport-wf6-batch-{proven.product.batch_id}.evidence.json"
    )
    proven.save(result.passports["wf6-with-evidence"])
    offline = verify_offline(PassportDocument.load(result.passports["wf6-with-evidence"]), anchor)
    result.verified_offline = offline.ok
    return result


def doc_block(result: DemoResult) -> int:
    """The block the demo's passports were read at."""
    return result.documents["wf6"].chain.as_of_block
