"""The tungsten scenario: two Vietnamese mines to an EU chip fab, on any chain.

Run by ``passport demo`` (``make demo``) on the embedded chain. Every step goes through the
public SDK, so the scenario doubles as an end-to-end example for integrators.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak

from passport._utils.files import atomic_write
from passport.core.document import DeviceReading, TelemetryWindow, Weighing
from passport.core.types import FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.evidence import AnyTrustAnchor, verify_offline
from passport.exceptions import SdkError
from passport.formats import epcis, untp
from passport.formats import label as labels
from passport.formats.identifiers import Identifiers
from passport.gateway.ingest import as_json
from passport.gateway.service import Gateway, proof_of
from passport.gateway.store import Store
from passport.records.disclosure import Package, load_tier
from passport.records.envelope import decrypt, encrypt
from passport.records.vault import Vault
from passport.sdk import AttestationRequest, Call, Client, Founder, PassportDocument, PolicyResult, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from passport.sdk.exporting import facility_record, render
from passport.sdk.records import resolve_documents
from passport.sdk.telemetry import MerkleTree, Reading, SignedReading, sign_reading

DAY = 86_400
STEPS = 11  # top-level messages `run` reports, for progress bars
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
    packages: list[Path] = field(default_factory=list)
    version_hash: str | None = None


# Fictional members and sites: no real company, licence or smelter id.
PROFILES: dict[str, dict[str, object]] = {
    "mine-a": {
        "legalName": "Lang Son Tungsten Joint Stock Company",
        "tradingName": "Lang Son Tungsten",
        "registration": {"scheme": "VN-ERC", "id": "4900990001"},
        "address": {"street": "12 Tran Dang Ninh", "city": "Lang Son", "country": "VN"},
        "website": "https://langson-tungsten.example",
    },
    "mine-b": {
        "legalName": "Song Cau Minerals Company Limited",
        "tradingName": "Song Cau Minerals",
        "registration": {"scheme": "VN-ERC", "id": "4600990002"},
        "address": {"city": "Thai Nguyen", "country": "VN"},
    },
    "refinery": {
        "legalName": "Red River Tungsten Refining Company Limited",
        "tradingName": "Red River Refining",
        "registration": {"scheme": "LEI", "id": "9845009999RRTR000001"},
        "address": {"street": "Lot B4, Dai An Industrial Park", "city": "Hai Duong", "country": "VN"},
    },
    "converter": {
        "legalName": "Hanul Fluoride Materials Co., Ltd.",
        "tradingName": "Hanul Fluoride",
        "registration": {"scheme": "KR-BRN", "id": "610-99-00003"},
        "address": {"city": "Ulsan", "country": "KR"},
    },
    "fab": {
        "legalName": "Polder Semiconductor Manufacturing B.V.",
        "registration": {"scheme": "NL-KVK", "id": "99000004"},
        "didWeb": "polder-semiconductor.example",
        "address": {"city": "Eindhoven", "country": "NL"},
    },
}
# Parties that hold no goods but are named in passports: they disclose their profiles too.
PARTY_PROFILES: dict[str, dict[str, object]] = {
    "carrier": {
        "legalName": "Bac Bo Logistics Joint Stock Company",
        "tradingName": "Bac Bo Logistics",
        "registration": {"scheme": "VN-ERC", "id": "0100990005"},
        "address": {"city": "Hanoi", "country": "VN"},
    },
    "certifier": {
        "legalName": "Alpine Assurance AG",
        "tradingName": "Alpine Assurance",
        "registration": {"scheme": "CH-UID", "id": "CHE-999.000.006"},
        "address": {"city": "Zug", "country": "CH"},
    },
}
# What readers call each member (a CometBFT network's validators are named in its trust anchor).
MEMBER_NAMES = {
    "admin": "Tungsten Consortium Secretariat",
    **{role: str(p["tradingName"]) for role, p in PARTY_PROFILES.items()},
    "regulator": "Mining Regulator (demo)",
    "auditor": "Independent Auditor (demo)",
    **{role: str(p.get("tradingName") or p["legalName"]) for role, p in PROFILES.items()},
}
SITES: dict[str, dict[str, object]] = {
    "mine-a": {
        "name": "Mine A",
        "kind": "MINE",
        "address": {"city": "Lang Son", "region": "Lang Son Province", "country": "VN"},
        "coordinates": {"latitude": 21.8537, "longitude": 106.7615},
        "licence": {"number": "GP-0990/BTNMT", "authority": "Ministry of Natural Resources and Environment"},
    },
    "mine-b": {
        "name": "Mine B",
        "kind": "MINE",
        "address": {"city": "Dai Tu", "region": "Thai Nguyen Province", "country": "VN"},
        "coordinates": {"latitude": 21.6345, "longitude": 105.6421},
        "licence": {"number": "GP-0991/BTNMT", "authority": "Ministry of Natural Resources and Environment"},
    },
    "refinery": {
        "name": "Hai Duong APT refinery",
        "kind": "REFINERY",
        "address": {"city": "Hai Duong", "country": "VN"},
        "coordinates": {"latitude": 20.9373, "longitude": 106.3146},
        "licence": {"number": "MT-0992/2030", "authority": "Hai Duong Department of Industry and Trade"},
        "rmiSmelterId": "CID999001",
        "gln": "9520999000016",
    },
    "wf6-plant": {
        "name": "Ulsan WF6 plant",
        "kind": "CONVERTER",
        "address": {"city": "Ulsan", "country": "KR"},
        "coordinates": {"latitude": 35.5384, "longitude": 129.3114},
        "licence": {"number": "UL-HZ-0993", "authority": "Ulsan Metropolitan City"},
        "gln": "9520999000023",
    },
}


# The resolver host printed on the demo's labels (passport serve answers it).
RESOLVER = "id.mineral-passport.example"
STATUS_URL = f"https://{RESOLVER}"  # where members publish their status lists (passport serve)

FAB_POLICY = {
    "name": "fab-disclosure",
    "description": "Every mine's licence number and every refinery's RMI smelter id disclosed, and every "
    "lot weighed by a weighbridge of its mine.",
    "rules": [
        {"type": "disclosed-field", "field": "licence.number", "kinds": ["MINE"]},
        {"type": "disclosed-field", "field": "rmiSmelterId", "kinds": ["REFINERY"]},
        {"type": "device-weighed", "kind": "net-mass", "tolerance_bps": 50},
    ],
}


def _through_gateway(
    sdk: Sdk, operator: LocalAccount, facility: int, signed: list[SignedReading], data_dir: Path
) -> dict[str, Any]:
    """Post ``signed`` to a gateway for ``facility`` over HTTP, wait until its window is anchored
    (by the operator's key), and return the proof of the first reading (the net mass). A fresh
    store: the demo runs on a fresh chain."""
    shutil.rmtree(data_dir, ignore_errors=True)
    store = Store(data_dir)
    gateway = Gateway(facility, store, sdk, operator, skew=3600, window_seconds=0.2)
    try:
        with gateway.running() as base:
            body = json.dumps([as_json(r) for r in signed]).encode()
            request = urllib.request.Request(
                base + "/readings", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                results = json.loads(response.read())["results"]
            if not all(r["accepted"] for r in results):
                raise SdkError(f"the gateway refused readings: {results}")
            deadline = time.monotonic() + 60
            while store.unwindowed() or store.pending():
                if time.monotonic() > deadline:
                    raise SdkError("the gateway did not anchor the readings within 60 s")
                time.sleep(0.05)
        first = signed[0].reading
        proof = proof_of(store, first.device, first.seq)
        assert proof is not None and proof["anchor"] is not None
        return proof
    finally:
        store.close()


def _hand_over(
    sdk: Sdk,
    vaults: dict[str, Vault],
    seller: str,
    buyer: str,
    batch_id: int,
    out_dir: Path,
    key: str | None = None,
) -> Path:
    """The seller's disclosure package for ``batch_id`` at the buyer tier, received by the buyer
    (encrypted to the buyer's key when ``key`` is its public key)."""
    document = sdk.passport_for(batch_id)
    package = sdk.records.share(vaults[seller], document, load_tier("buyer"))
    path = out_dir / "packages" / f"{seller}-to-{buyer}-batch-{batch_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if key is None:
        package.save(path)
        received = Package.load(path)
    else:
        encrypt(package, key).save(path)
        from passport.records.envelope import EncryptedPackage

        received = decrypt(EncryptedPackage.load(path), _account(buyer), str(path))
    sdk.records.receive(vaults[buyer], received, document)
    return path


def _account(name: str) -> LocalAccount:
    return dev_accounts()[DEV_ROLES.index(name)]


class _Scenario:
    """The demo scenario, scene by scene (:data:`SCENES`); each scene reads what the ones
    before it left on the scenario."""

    def __init__(self, client: Client, out_dir: Path, say: Callable[[str], None]) -> None:
        self.client, self.out_dir, self.say = client, out_dir, say
        self.anchor: AnyTrustAnchor | None = None  # once the chain has given proofs
        result = DemoResult()
        admin, mine_a, mine_b, carrier, refinery, converter, fab, certifier, regulator, _auditor = (
            dev_accounts()
        )
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

        self.admin = admin
        self.carrier = carrier
        self.certifier = certifier
        self.converter = converter
        self.fab = fab
        self.founders = founders
        self.mine_a = mine_a
        self.mine_b = mine_b
        self.refinery = refinery
        self.regulator = regulator
        self.result = result

    def deploy(self) -> None:
        admin, client, founders, out_dir, say = self.admin, self.client, self.founders, self.out_dir, self.say
        say("Deploying the consortium contracts (1-of-1 admin, 0.5 % hand-over and 1 % assay tolerance)")
        sdk = Sdk.deploy(
            client, admin, founders, network="demo", directory=out_dir / "deployments", force=True
        )
        gov, batches, att = sdk.consortium, sdk.batches, sdk.attestations

        self.att = att
        self.batches = batches
        self.gov = gov
        self.sdk = sdk

    def register_facilities(self) -> None:
        admin, converter, gov, mine_a, mine_b, refinery, say = (
            self.admin,
            self.converter,
            self.gov,
            self.mine_a,
            self.mine_b,
            self.refinery,
            self.say,
        )
        say("Registering facilities: two Vietnamese mines, an APT refinery, a WF6 plant in Korea")
        fac = {}
        for name, operator, country, kind in (
            ("mine-a", mine_a, "VN", FacilityKind.MINE),
            ("mine-b", mine_b, "VN", FacilityKind.MINE),
            ("refinery", refinery, "VN", FacilityKind.REFINERY),
            ("wf6-plant", converter, "KR", FacilityKind.CONVERTER),
        ):
            gov.propose_facility(admin, operator.address, country, kind)
            fac[name] = gov.facility_count()

        self.fac = fac

    def put_records(self) -> None:
        converter, fab, fac, mine_a, mine_b, out_dir, refinery, say, sdk = (
            self.converter,
            self.fab,
            self.fac,
            self.mine_a,
            self.mine_b,
            self.out_dir,
            self.refinery,
            self.say,
            self.sdk,
        )
        say(
            "Members put their profiles and site records in their vaults; "
            "only salted Merkle roots go on chain"
        )
        vaults = {
            name: Vault(out_dir / "vaults" / name)
            for name in ("mine-a", "mine-b", "refinery", "converter", "fab", *PARTY_PROFILES)
        }
        operators = {
            "mine-a": mine_a,
            "mine-b": mine_b,
            "refinery": refinery,
            "wf6-plant": converter,
            "fab": fab,
        }
        for name, profile in PROFILES.items():
            acct = operators["wf6-plant" if name == "converter" else name]
            sdk.records.put(vaults[name], acct, "member", acct.address, profile)
        for name, profile in PARTY_PROFILES.items():
            acct = _account(name)
            sdk.records.put(vaults[name], acct, "member", acct.address, profile)
        for name, site in SITES.items():
            owner = "converter" if name == "wf6-plant" else name
            sdk.records.put(vaults[owner], operators[name], "facility", str(fac[name]), site)

        self.vaults = vaults

    def accredit(self) -> None:
        admin, att, certifier, client, gov, say = (
            self.admin,
            self.att,
            self.certifier,
            self.client,
            self.gov,
            self.say,
        )
        say("Registering attestation schemas and accrediting the certifier")
        schemas = {
            "origin-verified": att.register_schema(admin, "origin-verified", True, SubjectKind.BATCH).value,
            "due-diligence-audited": att.register_schema(
                admin, "due-diligence-audited", True, SubjectKind.FACILITY
            ).value,
            "assay": att.register_schema(admin, "assay", False, SubjectKind.BATCH).value,
            "labour-audit": att.register_schema(admin, "labour-audit", True, SubjectKind.FACILITY).value,
        }
        _block, _hash, now = client.head()
        for schema_id in schemas.values():
            gov.propose_accreditation(admin, certifier.address, schema_id, now + 365 * DAY)

        self.now = now
        self.schemas = schemas

    def weigh_and_mint(self) -> None:
        batches, fac, gov, mine_a, mine_b, now, out_dir, result, say, sdk, vaults = (
            self.batches,
            self.fac,
            self.gov,
            self.mine_a,
            self.mine_b,
            self.now,
            self.out_dir,
            self.result,
            self.say,
            self.sdk,
            self.vaults,
        )
        say("Both mines bind weighbridge keys; each scale posts its signed readings to the mine's gateway")
        say("  over HTTP, which anchors them on-chain; each lot is minted with its readings' root")
        trees, readings, proofs = {}, {}, {}
        for name, operator, grams in (("mine-a", mine_a, 12_000_000), ("mine-b", mine_b, 8_000_000)):
            scale = Account.from_key(keccak(SCALE_KEY + name.encode()))
            gov.register_device(operator, scale.address, fac[name])
            readings[name] = [
                Reading(scale.address, fac[name], now, "net-mass", grams, "g", seq=1),
                Reading(scale.address, fac[name], now + 60, "moisture", 800, "milli-percent", seq=2),
                Reading(scale.address, fac[name], now + 120, "wo3-grade", 65_000, "milli-percent", seq=3),
            ]
            signed_readings = [sign_reading(scale, r) for r in readings[name]]
            assert all(r.is_from_device() for r in signed_readings)
            trees[name] = MerkleTree.of_readings(readings[name])
            proofs[name] = _through_gateway(
                sdk, operator, fac[name], signed_readings, out_dir / "gateways" / name
            )
            rows = [{**asdict(r.reading), "signature": "0x" + r.signature.hex()} for r in signed_readings]
            (out_dir / f"telemetry-{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
        conc_a = batches.mint(
            mine_a, fac["mine-a"], Stage.CONCENTRATE, 12_000_000, 515_600, trees["mine-a"].root
        ).value
        conc_b = batches.mint(
            mine_b, fac["mine-b"], Stage.CONCENTRATE, 8_000_000, 515_600, trees["mine-b"].root
        ).value
        tree = trees["mine-a"]
        result.batches.update({"concentrate-a": conc_a, "concentrate-b": conc_b})
        weighings = [
            Weighing(
                batch_id=lot,
                reading=DeviceReading.model_validate(proofs[name]["reading"]),
                lot_proof=["0x" + h.hex() for h in trees[name].proof(0)],  # the net-mass reading
                window=TelemetryWindow(
                    root=proofs[name]["window"]["root"],
                    count=proofs[name]["window"]["count"],
                    from_time=proofs[name]["window"]["fromTime"],
                    to_time=proofs[name]["window"]["toTime"],
                ),
                window_proof=proofs[name]["proof"],
            )
            for name, lot in (("mine-a", conc_a), ("mine-b", conc_b))
        ]
        for name, operator, lot in (("mine-a", mine_a, conc_a), ("mine-b", mine_b, conc_b)):
            documents = out_dir / "documents"
            documents.mkdir(parents=True, exist_ok=True)
            assay = documents / f"assay-{name}-lot-{lot}.txt"
            assay.write_text(
                f"Assay certificate, lot {lot} ({name}): WO3 65.0 %, Sn 0.12 %, As 0.05 % (fictional)\n"
            )
            licence = documents / f"export-licence-{name}-lot-{lot}.txt"
            licence.write_text(f"Export licence for lot {lot} ({name}) (fictional)\n")
            record = resolve_documents(
                vaults[name],
                {
                    "documents": {
                        "assayCertificate": {"file": assay.name},
                        "exportLicence": {"file": licence.name},
                    },
                    "telemetryRoot": "0x" + trees[name].root.hex(),
                    # tungsten concentrate, 65 % WO3 (fictional, GS1 example prefix)
                    "gtin": "09520999000108",
                },
                documents,
            )
            sdk.records.put(vaults[name], operator, "batch", str(lot), record)
        say(
            "  each mine appends its lot's documents (assay certificate, export licence, telemetry root) "
            "by root"
        )
        proof_ok = sdk.client.call(
            Call(
                sdk.contracts.passport,
                "verifyTelemetry",
                (conc_a, readings["mine-a"][0].leaf(), tree.proof(0)),
            )
        )
        say(f"  telemetry reading 0 proven on-chain against batch {conc_a}'s root: {proof_ok}")

        self.conc_a = conc_a
        self.conc_b = conc_b
        self.weighings = weighings

    def deliver_concentrates(self) -> None:
        batches, carrier, conc_a, conc_b, mine_a, mine_b, out_dir, refinery, result, say, sdk, vaults = (
            self.batches,
            self.carrier,
            self.conc_a,
            self.conc_b,
            self.mine_a,
            self.mine_b,
            self.out_dir,
            self.refinery,
            self.result,
            self.say,
            self.sdk,
            self.vaults,
        )
        say("Carrier collects both lots; the refinery takes title and weighs at receipt")
        batches.offer_custody(mine_a, conc_a, carrier.address)
        batches.accept(carrier, conc_a, 12_000_000)
        batches.offer(mine_a, conc_a, refinery.address)
        discrepancy = batches.accept(
            refinery, conc_a, 11_880_000
        ).value  # 1 % short: beyond the 0.5 % tolerance
        result.packages.append(_hand_over(sdk, vaults, "mine-a", "refinery", conc_a, out_dir))
        say(f"  lot A arrives 120 kg light: discrepancy recorded = {discrepancy}")
        batches.offer_custody(mine_b, conc_b, carrier.address)
        batches.accept(carrier, conc_b, 8_000_000)
        batches.offer(mine_b, conc_b, refinery.address)
        batches.accept(refinery, conc_b, 7_990_000)
        result.packages.append(_hand_over(sdk, vaults, "mine-b", "refinery", conc_b, out_dir))
        say("  each mine hands the refinery a buyer-tier disclosure package with its lot")

    def attest(self) -> None:
        att, certifier, conc_a, fac, now, out_dir, refinery, result, say, schemas = (
            self.att,
            self.certifier,
            self.conc_a,
            self.fac,
            self.now,
            self.out_dir,
            self.refinery,
            self.result,
            self.say,
            self.schemas,
        )
        say("Certifier attests: due diligence at both mines, a labour audit, and batch origin signed offline")
        att.attest(
            certifier,
            AttestationRequest(
                schemas["due-diligence-audited"],
                fac["mine-a"],
                keccak(text="DD report mine A"),
                now + 180 * DAY,
            ),
        )
        att.attest(
            certifier,
            AttestationRequest(
                schemas["due-diligence-audited"],
                fac["mine-b"],
                keccak(text="DD report mine B"),
                now + 180 * DAY,
            ),
        )
        labour = att.attest(
            certifier,
            AttestationRequest(
                schemas["labour-audit"], fac["mine-b"], keccak(text="labour audit mine B"), now + 90 * DAY
            ),
        ).value
        signed = att.sign(
            certifier,
            AttestationRequest(
                schemas["origin-verified"], conc_a, keccak(text="origin dossier lot A"), now + 365 * DAY
            ),
        )
        result.signed_attestation = out_dir / f"attestation-origin-batch-{conc_a}.json"
        signed.save(result.signed_attestation)
        origin = att.submit(
            refinery, type(signed).load(result.signed_attestation)
        ).value  # relayed by the refinery from the file
        say(f"  offline-signed origin attestation relayed by the refinery ({result.signed_attestation.name})")

        self.labour, self.origin = labour, origin
        self.result = result

    def refine(self) -> None:
        att, batches, certifier, conc_a, conc_b, fac, refinery, result, say, schemas = (
            self.att,
            self.batches,
            self.certifier,
            self.conc_a,
            self.conc_b,
            self.fac,
            self.refinery,
            self.result,
            self.say,
            self.schemas,
        )
        say("Refinery splits lot A, then makes APT: one line from mine A alone, one blending A and B")
        part_1, part_2 = batches.split(refinery, conc_a, [7_000_000, 5_000_000]).value
        (apt_blend,) = batches.process(
            refinery,
            [part_1, conc_b],
            fac["refinery"],
            [ProcessOutput(Stage.APT, 10_500_000, 700_000, keccak(text="APT lot 1 assay"))],
        ).value
        (apt_pure,) = batches.process(
            refinery,
            [part_2],
            fac["refinery"],
            [ProcessOutput(Stage.APT, 3_500_000, 700_000, keccak(text="APT lot 2 assay"))],
        ).value
        att.attest(
            certifier, AttestationRequest(schemas["assay"], apt_blend, keccak(text="APT lot 1 ICP-OES"), 0)
        )
        result.batches.update(
            {"split-1": part_1, "split-2": part_2, "apt-blend": apt_blend, "apt-mine-a": apt_pure}
        )

        self.apt_blend = apt_blend

    def convert(self) -> None:
        apt_blend, batches, converter, fab, fac, out_dir, refinery, result, say, sdk, vaults = (
            self.apt_blend,
            self.batches,
            self.converter,
            self.fab,
            self.fac,
            self.out_dir,
            self.refinery,
            self.result,
            self.say,
            self.sdk,
            self.vaults,
        )
        say("The WF6 plant in Korea buys the blended APT and converts it for chip fabs")
        batches.offer(refinery, apt_blend, converter.address)
        batches.accept(converter, apt_blend, 10_500_000)
        result.packages.append(_hand_over(sdk, vaults, "refinery", "converter", apt_blend, out_dir))
        wf6_mass = 10_500_000 * 700_000 * 95 // 100 // 617_000  # 95 % yield; WF6 is 61.7 % W
        (wf6,) = batches.process(
            converter,
            [apt_blend],
            fac["wf6-plant"],
            [ProcessOutput(Stage.WF6, wf6_mass, 617_000, keccak(text="WF6 cylinder lot"))],
        ).value
        batches.offer(converter, wf6, fab.address)
        batches.accept(fab, wf6, wf6_mass)
        fab_key = "0x" + PrivateKey(fab.key).public_key.to_bytes().hex()
        result.packages.append(_hand_over(sdk, vaults, "converter", "fab", wf6, out_dir, fab_key))
        for party in PARTY_PROFILES:  # named in the WF6 passport (custody, attestations): their names too
            result.packages.append(_hand_over(sdk, vaults, party, "fab", wf6, out_dir, fab_key))
        say("  disclosures travel with the goods: refinery to converter, converter to fab (encrypted to it);")
        say("  the carrier and the certifier named in the passport send the fab their profiles")
        result.batches["wf6"] = wf6

        self.result = result
        self.wf6 = wf6

    def sanction(self) -> None:
        att, certifier, gov, labour, mine_b, out_dir, regulator, result, say, sdk = (
            self.att,
            self.certifier,
            self.gov,
            self.labour,
            self.mine_b,
            self.out_dir,
            self.regulator,
            self.result,
            self.say,
            self.sdk,
        )
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

        self.result = result

    def export_with_evidence(self) -> None:
        """The WF6 passport with its evidence, and the trust anchor a buyer checks it against."""
        out_dir, result, say, sdk, weighings = self.out_dir, self.result, self.say, self.sdk, self.weighings
        say(
            "The WF6 passport is exported with its evidence; "
            "a buyer checks it offline against the trust anchor"
        )
        try:
            proven = sdk.export_with_evidence(result.batches["wf6"], doc_block(result), readings=weighings)
        except SdkError as exc:
            say(f"  no evidence on this chain: {exc}")
            return
        result.trust_anchor = out_dir / "consortium.trust.json"
        names = {str(_account(role).address): name for role, name in MEMBER_NAMES.items()}
        self.anchor = anchor = sdk.trust_anchor("Demo tungsten consortium", names)
        anchor.save(result.trust_anchor)
        result.passports["wf6-with-evidence"] = (
            out_dir / f"passport-wf6-batch-{proven.product.batch_id}.evidence.json"
        )
        proven.save(result.passports["wf6-with-evidence"])
        offline = verify_offline(PassportDocument.load(result.passports["wf6-with-evidence"]), anchor)
        result.verified_offline = offline.ok
        for w in proven.readings:
            r = w.reading
            say(
                f"  weighbridge reading {r.device[:10]}…#{r.seq} of lot {w.batch_id}: "
                f"{r.value / 1000:,.0f} kg, in anchored window {w.window.root[:10]}… "
                f"({w.window.count} readings): verified offline {offline.ok}"
            )

    def export_at_tiers_and_in_formats(self) -> None:
        """The fab's passport at the public and buyer tiers, as a UNTP DPP and in EPCIS."""
        if self.anchor is None:
            return  # the chain gives no proofs
        anchor, client, fab, out_dir, result, say, sdk, vaults, weighings, wf6 = (
            self.anchor,
            self.client,
            self.fab,
            self.out_dir,
            self.result,
            self.say,
            self.sdk,
            self.vaults,
            self.weighings,
            self.wf6,
        )
        for tier in ("public", "buyer"):
            exported = sdk.export(
                wf6, "passport", tier, block=doc_block(result), vault=vaults["fab"], readings=weighings
            )
            disclosed = exported.document
            path = out_dir / f"passport-wf6-batch-{wf6}.{tier}.json"
            atomic_write(path, exported.content)
            result.passports[f"wf6-{tier}"] = path
            result.documents[f"wf6-{tier}"] = PassportDocument.load(path)
            ok = verify_offline(result.documents[f"wf6-{tier}"], anchor).ok
            result.verified_offline = result.verified_offline and ok
            count = len(disclosed.disclosures)
            say(f"  the fab exports it at the {tier} tier ({count} records): verified offline {ok}")
        # The same passport in the formats buyers' systems read, signed by the fab, verified offline.
        dpp = sdk.export(
            wf6,
            "untp-dpp",
            "buyer",
            block=doc_block(result),
            vault=vaults["fab"],
            signer=fab,
            policies=("dfars-2027", "eu-2017-821"),
            readings=weighings,
            status_url=STATUS_URL,
        )
        buyer_proven, credential = dpp.document, dpp.content.decode().strip()
        result.passports["wf6-untp-dpp"] = out_dir / f"passport-wf6-batch-{wf6}.dpp.jwt"
        atomic_write(result.passports["wf6-untp-dpp"], dpp.content)
        result.passports["wf6-epcis"] = out_dir / f"passport-wf6-batch-{wf6}.epcis.json"
        # no issuer: its proofs prove no member
        atomic_write(result.passports["wf6-epcis"], render(result.documents["wf6-buyer"], "epcis").content)
        assert buyer_proven.version is not None
        result.version_hash = buyer_proven.version.hash
        formats_ok = (
            untp.verify_credential(credential, anchor).ok
            and epcis.verify_document(result.passports["wf6-epcis"].read_text(), anchor).ok
        )
        result.verified_offline = result.verified_offline and formats_ok
        issuer = untp.did_pkh(client.chain_id, fab.address)
        say(f"  as a UNTP DPP (vc+jwt, issuer {issuer}) and GS1 EPCIS 2.0: verified offline {formats_ok}")
        say(f"  passport version {buyer_proven.version.hash}")
        # The refinery's own site as a UNTP Digital Facility Record, signed by it, from its vault.
        dfr = facility_record(
            sdk, self.fac["refinery"], self.refinery, vaults["refinery"], "buyer", doc_block(result)
        )
        result.passports["refinery-dfr"] = out_dir / f"facility-{self.fac['refinery']}.dfr.jwt"
        atomic_write(result.passports["refinery-dfr"], dfr.content)
        dfr_ok = untp.verify_credential(dfr.content.decode(), anchor).ok
        result.verified_offline = result.verified_offline and dfr_ok
        say(
            f"  the refinery's site as a UNTP Digital Facility Record (issuer {dfr.issuer}): "
            f"verified offline {dfr_ok}"
        )

    def status_lists(self) -> None:
        """The certifier's conformity credentials name their bits in its status lists; it
        publishes the lists derived from the chain, and a buyer checks each credential with them,
        offline: the labour audit revoked on chain shows revoked, the origin attestation not."""
        if self.anchor is None:
            return  # the chain gives no proofs
        anchor, certifier, out_dir, result, say, sdk = (
            self.anchor,
            self.certifier,
            self.out_dir,
            self.result,
            self.say,
            self.sdk,
        )
        say("The certifier issues attestations as UNTP conformity credentials and publishes its status lists")
        published = out_dir / "published"
        lists: dict[str, untp.StatusList] = {}
        for who, signer in (("certifier", certifier), ("fab", self.fab)):
            for item in sdk.publish_status(signer, STATUS_URL):
                path = published / "status" / f"{item.url.rsplit('/status/', 1)[1]}.jwt"
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, item.content)
                lists[f"{who}-{item.name}"] = untp.StatusList.read(item.content.decode())
        result.passports["certifier-status-dcc-revocation"] = (
            published / "status" / str(self.client.chain_id) / certifier.address / "dcc-revocation.jwt"
        )
        as_expected = True
        for label, uid, revoked in (("origin", self.origin, False), ("labour-audit", self.labour, True)):
            dcc = sdk.export(
                self.wf6,
                "untp-dcc",
                block=doc_block(result),
                signer=certifier,
                attestation=uid,
                status_url=STATUS_URL,
            )
            result.passports[f"{label}-dcc"] = out_dir / f"attestation-{label}.dcc.jwt"
            atomic_write(result.passports[f"{label}-dcc"], dcc.content)
            report = untp.verify_credential(
                dcc.content.decode(),
                anchor,
                [lists["certifier-dcc-revocation"], lists["certifier-dcc-suspension"]],
            )
            said = [f.reason for f in report.failures]
            states = [r.split(" (", 1)[0] for r in said]
            as_expected = as_expected and (
                report.ok
                if not revoked
                else any(s.startswith("revoked at") for s in states)
                and all(s.startswith(("revoked at", "suspended at")) for s in states)
            )
            verdict = "; ".join(states) or next(n for n in report.notes if n.startswith("status:"))[8:]
            say(f"  the {label} credential, checked offline with the certifier's list: {verdict}")
        dpp = untp.verify_credential(
            result.passports["wf6-untp-dpp"].read_text(),
            anchor,
            [lists["fab-dpp-revocation"], lists["fab-dpp-suspension"]],
        )
        as_expected = as_expected and dpp.ok
        result.verified_offline = result.verified_offline and as_expected
        state = "not revoked, not suspended" if dpp.ok else "; ".join(str(f) for f in dpp.failures)
        say(f"  the fab's DPP, checked with the fab's lists: {state}")

    def page_label_and_policies(self) -> None:
        """For people: a page that verifies the buyer-tier passport in the browser, the drum's
        label; and the fab's own policy, which demands disclosure."""
        if self.anchor is None:
            return  # the chain gives no proofs
        anchor, client, out_dir, result, say, sdk, wf6 = (
            self.anchor,
            self.client,
            self.out_dir,
            self.result,
            self.say,
            self.sdk,
            self.wf6,
        )
        result.passports["wf6-page"] = out_dir / "passport-wf6.html"
        atomic_write(
            result.passports["wf6-page"], render(result.documents["wf6-buyer"], "page", anchor=anchor).content
        )
        shown = result.documents["wf6-buyer"]
        url = labels.passport_url(RESOLVER, client.chain_id, wf6, Identifiers(shown).gtin(wf6))
        p = shown.product
        result.passports["wf6-label"] = out_dir / "label-wf6.svg"
        caption = f"{p.stage.name} batch {wf6} · {p.mass_grams / 1000:,.1f} kg · {p.country}"
        labels.write_label(url, caption, result.passports["wf6-label"])
        say(
            f"  a page that verifies it in the browser, {result.passports['wf6-page'].name}, "
            f"and its label: {url}"
        )
        # The fab's own policy demands disclosure: licence numbers of the mines, the refinery's RMI id.
        policy_path = out_dir / "fab-disclosure.policy.json"
        policy_path.write_text(json.dumps(FAB_POLICY, indent=2) + "\n")
        buyer_doc = result.documents["wf6-buyer"]
        result.policy_results = [
            *(sdk.check(buyer_doc, p) for p in ("dfars-2027", "eu-2017-821", str(policy_path))),
            sdk.check(result.documents["wf6-public"], str(policy_path)),
            *(r for r in result.policy_results if r.batch_id != wf6),
        ]


SCENES = (
    "deploy",
    "register_facilities",
    "put_records",
    "accredit",
    "weigh_and_mint",
    "deliver_concentrates",
    "attest",
    "refine",
    "convert",
    "sanction",
    "export_with_evidence",
    "export_at_tiers_and_in_formats",
    "status_lists",
    "page_label_and_policies",
)


def run(client: Client, out_dir: Path, say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Run the scenario on ``client``, scene by scene, and write passports and the signed
    attestation to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario = _Scenario(client, out_dir, say)
    for scene in SCENES:
        getattr(scenario, scene)()
    return scenario.result


def doc_block(result: DemoResult) -> int:
    """The block the demo's passports were read at."""
    return result.documents["wf6"].chain.as_of_block
