#!/usr/bin/env python3
"""Whole-transaction gas of each contract operation, from receipts on a fresh anvil chain.

    scripts/bench_gas.py          table with ceilings and anchors (OZ ERC-721, ERC-3643, EAS)
    scripts/bench_gas.py --json   one JSON object of integer gas figures

Gas is deterministic: the same sources and inputs give the same figures on every run.
Exit code 1 when a figure exceeds its ceiling.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from eth_account.signers.local import LocalAccount

from passport.core.types import FacilityKind, Role, Stage, SubjectKind
from passport.sdk import AttestationRequest, Call, Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import Anvil

# key: (ceiling or None, anchor text)
TARGETS: dict[str, tuple[int | None, str]] = {
    "mint": (150_000, ""),
    "transfer_new_holder": (70_000, "OZ ERC-721 59,866; ERC-3643 156,405; one-slot floor ~28,400"),
    "transfer_existing_holder": (None, ""),
    "offer": (None, "offer + accept <= 130,000"),
    "accept": (None, "offer + accept <= 130,000"),
    "split_1_to_3": (260_000, ""),
    "process_3_to_1": (None, ""),
    "attest": (85_000, "EAS 161,950"),
    "attest_by_sig": (95_000, "EAS 283,188"),
    "revoke": (35_000, ""),
    "set_profile_root": (50_000, "first root: one new slot"),
    "set_facility_record": (35_000, "overwrites the root slot"),
    "add_documents": (35_000, "event only, nothing stored"),
    "anchor_telemetry": (60_000, "a window of readings: one new slot and an event"),
}
OFFER_PLUS_ACCEPT_CEILING = 130_000
# Fixed times (2033-05-18) keep calldata, and so gas, identical from run to run.
EXPIRY = 2_000_000_000


def measure(url: str) -> dict[str, int]:
    client = Client.connect(url)
    admin, miner, carrier, refiner, certifier, regulator, buyer, trader = dev_accounts(8)
    founders = [
        Founder(admin.address, Role.ADMIN, "VN"),
        Founder(miner.address, Role.MINER, "VN"),
        Founder(carrier.address, Role.CARRIER, "VN"),
        Founder(refiner.address, Role.PROCESSOR, "VN"),
        Founder(certifier.address, Role.CERTIFIER, "CH"),
        Founder(regulator.address, Role.REGULATOR, "VN"),
        Founder(buyer.address, Role.BUYER, "NL"),
        Founder(trader.address, Role.TRADER, "SG"),
    ]
    sdk = Sdk.deploy(client, admin, founders)
    sdk.consortium.propose_facility(admin, miner.address, "VN", FacilityKind.MINE, b"\x01" * 32)
    sdk.consortium.propose_facility(admin, refiner.address, "VN", FacilityKind.REFINERY, b"\x02" * 32)
    mine, refinery = 1, 2
    sdk.attestations.register_schema(admin, "due-diligence-audited", True, SubjectKind.BATCH)
    sdk.consortium.propose_accreditation(admin, certifier.address, 1, EXPIRY)
    passport, registry = sdk.contracts.passport.functions, sdk.contracts.registry.functions

    gas: dict[str, int] = {}

    def record(key: str, sender: LocalAccount, call: Any) -> None:
        gas[key] = int(client.transact(sender, call)["gasUsed"])

    def mint() -> Any:
        return passport.mint(mine, int(Stage.CONCENTRATE), 2_000_000, 650_000, b"\x11" * 32)

    client.transact(miner, mint())  # batch 1: the chain's first batch, so the next figure is a typical mint
    record("mint", miner, mint())  # batch 2
    client.transact(miner, mint())  # batch 3
    client.transact(miner, mint())  # batch 4
    record("transfer_new_holder", miner, passport.transferFrom(miner.address, trader.address, 1))
    record("transfer_existing_holder", miner, passport.transferFrom(miner.address, trader.address, 2))
    record("offer", miner, passport.offer(3, refiner.address))
    record("accept", refiner, passport.accept(3, 2_000_000))  # refiner held nothing before
    record("split_1_to_3", refiner, passport.split(3, [700_000, 700_000, 600_000]))  # batches 5-7
    apt = [(int(Stage.APT), 1_200_000, 700_000, b"\x22" * 32)]
    record("process_3_to_1", refiner, passport.process([5, 6, 7], refinery, apt))  # batch 8

    request = AttestationRequest(1, 8, b"\x33" * 32, EXPIRY, b"\x00" * 32)
    record("attest", certifier, registry.attest(request.as_tuple()))
    signed = sdk.attestations.sign(
        certifier, AttestationRequest(1, 8, b"\x44" * 32, EXPIRY, b"\x01" * 32), EXPIRY
    )
    signature = bytes.fromhex(signed.signature[2:])
    record(
        "attest_by_sig",
        buyer,
        registry.attestBySig(signed.request().as_tuple(), certifier.address, EXPIRY, signature),
    )
    uid = client.call(
        Call(sdk.contracts.registry, "attestationDigest", (request.as_tuple(), certifier.address, 0))
    )
    record("revoke", certifier, registry.revoke(uid))
    consortium = sdk.contracts.consortium.functions
    record("set_profile_root", miner, consortium.setProfileRoot(b"\x55" * 32))
    record("set_facility_record", miner, consortium.setFacilityRecord(mine, b"\x66" * 32))
    record("add_documents", refiner, passport.addDocuments(8, b"\x77" * 32))
    record(
        "anchor_telemetry",
        miner,
        consortium.anchorTelemetry(mine, b"\x88" * 32, 1000, 1_800_000_000, 1_800_000_060),
    )
    return gas


def over_ceiling(gas: dict[str, int]) -> list[str]:
    failures = [k for k, (ceiling, _) in TARGETS.items() if ceiling is not None and gas[k] > ceiling]
    if gas["offer"] + gas["accept"] > OFFER_PLUS_ACCEPT_CEILING:
        failures.append("offer+accept")
    return failures


def table(gas: dict[str, int]) -> str:
    rows = [("operation", "gas", "ceiling", "used", "anchor / floor")]
    for key, (ceiling, anchor) in TARGETS.items():
        used = f"{gas[key] / ceiling:.1%}" if ceiling else ""
        rows.append((key, f"{gas[key]:,}", f"{ceiling:,}" if ceiling else "", used, anchor))
    both = gas["offer"] + gas["accept"]
    rows.append(
        (
            "offer + accept",
            f"{both:,}",
            f"{OFFER_PLUS_ACCEPT_CEILING:,}",
            f"{both / OFFER_PLUS_ACCEPT_CEILING:.1%}",
            "",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "| "
            + " | ".join(
                c.ljust(w) if i in (0, 4) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of integer gas figures")
    parser.add_argument("--rpc-url", help="use this node instead of starting anvil")
    args = parser.parse_args()
    if args.rpc_url:
        gas = measure(args.rpc_url)
    else:
        with Anvil() as node:
            gas = measure(node.url)
    print(json.dumps(gas, indent=2) if args.json else table(gas))
    failures = over_ceiling(gas)
    if failures:
        print("over ceiling: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
