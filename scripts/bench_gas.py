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
from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from passport.toolchain import load_artifact
from passport.toolchain.anvil import DEV_MNEMONIC, Anvil

MINER, PROCESSOR, TRADER, CARRIER, CERTIFIER, REGULATOR, BUYER, ADMIN = (1 << i for i in range(8))
CONCENTRATE, APT = 1, 2
MINE_KIND, REFINERY_KIND = 0, 2

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
}
OFFER_PLUS_ACCEPT_CEILING = 130_000
# Fixed times (2033-05-18) keep calldata, and so gas, identical from run to run.
EXPIRY = 2_000_000_000


class Chain:
    """Signs and sends transactions with local keys, failing loudly on any revert."""

    def __init__(self, url: str) -> None:
        self.w3 = Web3(Web3.HTTPProvider(url))
        self.chain_id = self.w3.eth.chain_id

    def deploy(self, name: str, sender: LocalAccount, *args: Any) -> Contract:
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.send(sender, factory.constructor(*args))
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)

    def send(self, sender: LocalAccount, call: Any) -> Any:
        tx = call.build_transaction(
            {
                "from": sender.address,
                "nonce": self.w3.eth.get_transaction_count(sender.address),
                "chainId": self.chain_id,
            }
        )
        signed = sender.sign_transaction(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        )
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {receipt['transactionHash'].hex()} reverted")
        return receipt


def dev_accounts(count: int) -> list[LocalAccount]:
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


def measure(url: str) -> dict[str, int]:
    chain = Chain(url)
    admin, miner, carrier, refiner, certifier, regulator, buyer, trader = dev_accounts(8)
    founders = [
        (admin.address, ADMIN, b"VN"),
        (miner.address, MINER, b"VN"),
        (carrier.address, CARRIER, b"VN"),
        (refiner.address, PROCESSOR, b"VN"),
        (certifier.address, CERTIFIER, b"CH"),
        (regulator.address, REGULATOR, b"VN"),
        (buyer.address, BUYER, b"NL"),
        (trader.address, TRADER, b"SG"),
    ]
    consortium = chain.deploy("Consortium", admin, founders, 1)
    passport = chain.deploy("MineralPassport", admin, consortium.address, 50, 100, "")
    registry = chain.deploy("AttestationRegistry", admin, consortium.address, passport.address)

    def governed(call: Any) -> None:
        chain.send(admin, call)
        chain.send(admin, consortium.functions.execute(consortium.functions.proposalCount().call()))

    governed(consortium.functions.proposeAddFacility(miner.address, b"VN", MINE_KIND, b"\x01" * 32))
    governed(consortium.functions.proposeAddFacility(refiner.address, b"VN", REFINERY_KIND, b"\x02" * 32))
    mine, refinery = 1, 2
    chain.send(admin, registry.functions.registerSchema("due-diligence-audited", True, 0))
    expiry = EXPIRY
    governed(consortium.functions.proposeAccreditation(certifier.address, 1, expiry))

    gas: dict[str, int] = {}

    def record(key: str, sender: LocalAccount, call: Any) -> Any:
        receipt = chain.send(sender, call)
        gas[key] = int(receipt["gasUsed"])
        return receipt

    def mint() -> Callable[[], Any]:
        return passport.functions.mint(mine, CONCENTRATE, 2_000_000, 650_000, b"\x11" * 32)

    chain.send(miner, mint())  # batch 1: the chain's first batch, so the next figure is a typical mint
    record("mint", miner, mint())  # batch 2
    chain.send(miner, mint())  # batch 3
    chain.send(miner, mint())  # batch 4
    record("transfer_new_holder", miner, passport.functions.transferFrom(miner.address, trader.address, 1))
    record(
        "transfer_existing_holder", miner, passport.functions.transferFrom(miner.address, trader.address, 2)
    )
    record("offer", miner, passport.functions.offer(3, refiner.address))
    record("accept", refiner, passport.functions.accept(3, 2_000_000))  # refiner held nothing before
    record("split_1_to_3", refiner, passport.functions.split(3, [700_000, 700_000, 600_000]))  # batches 5-7
    apt = [(APT, 1_200_000, 700_000, b"\x22" * 32)]
    record("process_3_to_1", refiner, passport.functions.process([5, 6, 7], refinery, apt))  # batch 8

    request = (1, 8, b"\x33" * 32, expiry, b"\x00" * 32)
    record("attest", certifier, registry.functions.attest(request))
    signed_request = (1, 8, b"\x44" * 32, expiry, b"\x01" * 32)
    deadline = expiry
    digest = registry.functions.attestationDigest(signed_request, certifier.address, deadline).call()
    signature = certifier.unsafe_sign_hash(digest).signature
    record(
        "attest_by_sig",
        buyer,
        registry.functions.attestBySig(signed_request, certifier.address, deadline, signature),
    )
    uid = registry.functions.attestationDigest(request, certifier.address, 0).call()
    record("revoke", certifier, registry.functions.revoke(uid))
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
