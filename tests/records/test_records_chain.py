"""Records against the passport node, through the CLI as a member would use it: put, show,
share and receive; an unchanged put sends nothing; bad records, wrong senders, packages for
another batch and roots that are not on chain are refused with one clear line; and kill -9 at
any point of a put leaves the vault readable and consistent with the chain."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from passport.core.types import FacilityKind, Role, Stage
from passport.node.process import NodeProcess
from passport.records.disclosure import Package, disclose
from passport.records.fields import salt_record
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts

pytestmark = pytest.mark.slow
PASSPORT = Path(sys.executable).with_name("passport")

PROFILE = {
    "legalName": "Lang Son Tungsten Joint Stock Company",
    "tradingName": "Lang Son Tungsten",
    "registration": {"scheme": "VN-ERC", "id": "4900990001"},
    "address": {"city": "Lang Son", "country": "VN"},
}
SITE = {
    "name": "Mine A",
    "kind": "MINE",
    "address": {"city": "Lang Son", "country": "VN"},
    "coordinates": {"latitude": 21.85, "longitude": 106.76},
    "licence": {"number": "GP-0990", "authority": "MONRE"},
}


@dataclass(frozen=True)
class Chain:
    sdk: Sdk
    args: list[str]
    mine: int
    lot: int
    other_lot: int
    tmp: Path


@pytest.fixture(scope="module")
def chain(dev_node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    tmp = tmp_path_factory.mktemp("records")
    client = Client.connect(dev_node.url)
    accounts = dict(zip(DEV_ROLES, dev_accounts(), strict=True))
    founders = [
        Founder(accounts["admin"].address, Role.ADMIN, "VN"),
        Founder(accounts["mine-a"].address, Role.MINER, "VN"),
        Founder(accounts["refinery"].address, Role.PROCESSOR, "VN"),
    ]
    sdk = Sdk.deploy(client, accounts["admin"], founders, network="records", directory=tmp / "deployments")
    sdk.consortium.propose_facility(accounts["admin"], accounts["mine-a"].address, "VN", FacilityKind.MINE)
    mine = sdk.consortium.facility_count()
    lot = sdk.batches.mint(accounts["mine-a"], mine, Stage.CONCENTRATE, 1_000_000, 600_000).value
    other = sdk.batches.mint(accounts["mine-a"], mine, Stage.CONCENTRATE, 2_000_000, 600_000).value
    args = ["--rpc-url", dev_node.url, "--network", "records", "--deployments", str(tmp / "deployments")]
    return Chain(sdk, args, mine, lot, other, tmp)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PASSPORT, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=120,
    )


def ok_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def one_line_error(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def put(
    c: Chain, vault: Path, kind: str, subject: str, file: Path, who: str, env: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    return run(
        "records",
        "put",
        kind,
        subject,
        str(file),
        "--vault",
        str(vault),
        "--dev-account",
        who,
        *c.args,
        "--json",
        env=env,
    )


def show(c: Chain, vault: Path, kind: str, subject: str) -> subprocess.CompletedProcess[str]:
    return run("records", "show", kind, subject, "--vault", str(vault), *c.args, "--json")


def test_put_show_and_an_unchanged_put_sends_nothing(chain: Chain) -> None:
    vault, site = chain.tmp / "vault-put", write(chain.tmp / "site.json", SITE)
    first = ok_json(put(chain, vault, "facility", str(chain.mine), site, "mine-a"))
    assert first["changed"] and first["tx"]
    facility = chain.sdk.consortium.facility(chain.mine)
    assert facility.record_root == first["root"]
    head = chain.sdk.client.head()[0]
    again = ok_json(put(chain, vault, "facility", str(chain.mine), site, "mine-a"))
    assert again == {**first, "changed": False, "tx": None}
    assert chain.sdk.client.head()[0] == head  # nothing was sent
    shown = ok_json(show(chain, vault, "facility", str(chain.mine)))
    assert shown["on_chain"] and shown["record"] == SITE and shown["root"] == first["root"]
    # one field changes: one new salt, a new root on chain
    moved = ok_json(
        put(
            chain,
            vault,
            "facility",
            str(chain.mine),
            write(chain.tmp / "s2.json", {**SITE, "name": "Mine A1"}),
            "mine-a",
        )
    )
    assert moved["changed"] and moved["root"] != first["root"]
    assert chain.sdk.consortium.facility(chain.mine).record_root == moved["root"]
    human = run("records", "show", "facility", str(chain.mine), "--vault", str(vault), *chain.args)
    assert "on chain" in human.stdout and "Mine A1" in human.stdout


def test_bad_records_and_senders_are_refused(chain: Chain) -> None:
    vault = chain.tmp / "vault-bad"
    bad = write(chain.tmp / "bad.json", {**SITE, "kind": "QUARRY", "licence": {"number": ""}})
    one_line_error(
        put(chain, vault, "facility", str(chain.mine), bad, "mine-a"),
        "facility record: kind: 'QUARRY' is not one of",
    )
    not_json = chain.tmp / "broken.json"
    not_json.write_text("{")
    one_line_error(
        put(chain, vault, "facility", str(chain.mine), not_json, "mine-a"), "broken.json: not JSON"
    )
    site = write(chain.tmp / "site-ok.json", SITE)
    one_line_error(put(chain, vault, "facility", str(chain.mine), site, "refinery"), "ConsortiumNotOperator")
    one_line_error(put(chain, vault, "facility", "x1", site, "mine-a"), "not a positive integer id")
    one_line_error(
        put(chain, vault, "facility", "99", site, "mine-a"), "ConsortiumUnknownFacility(facilityId=99)"
    )
    profile = write(chain.tmp / "profile.json", PROFILE)
    refinery = dev_accounts()[DEV_ROLES.index("refinery")].address
    one_line_error(
        put(chain, vault, "member", refinery, profile, "mine-a"), "only the member itself sets its profile"
    )
    one_line_error(
        put(
            chain,
            vault,
            "batch",
            str(chain.lot),
            write(chain.tmp / "d.json", {"documents": {"a": {"file": "missing.pdf"}}}),
            "mine-a",
        ),
        "missing.pdf: cannot read the document",
    )
    # The refused put left nothing current in the vault.
    one_line_error(show(chain, vault, "facility", str(chain.mine)), "not in the vault")


def _share(
    chain: Chain, vault: Path, batch: int, out: Path, tier: str = "buyer"
) -> subprocess.CompletedProcess[str]:
    return run(
        "records",
        "share",
        "--batch",
        str(batch),
        "--tier",
        tier,
        "--out",
        str(out),
        "--vault",
        str(vault),
        *chain.args,
        "--json",
    )


def test_share_and_receive_check_against_the_chain(chain: Chain) -> None:
    seller, buyer = chain.tmp / "vault-seller", chain.tmp / "vault-buyer"
    mine_a = dev_accounts()[DEV_ROLES.index("mine-a")].address
    ok_json(put(chain, seller, "member", mine_a, write(chain.tmp / "p.json", PROFILE), "mine-a"))
    ok_json(put(chain, seller, "facility", str(chain.mine), write(chain.tmp / "f.json", SITE), "mine-a"))
    (chain.tmp / "assay.txt").write_text("WO3 65 %\n")
    docs = write(
        chain.tmp / "docs.json",
        {"documents": {"assayCertificate": {"file": "assay.txt"}}, "notes": "lot notes"},
    )
    ok_json(put(chain, seller, "batch", str(chain.lot), docs, "mine-a"))
    pkg = chain.tmp / "pkg.json"
    shared = ok_json(_share(chain, seller, chain.lot, pkg))
    assert sorted(shared["disclosures"]) == sorted(
        [f"member {mine_a}", f"facility {chain.mine}", f"batch {chain.lot}"]
    )
    package = Package.load(pkg)
    by_kind = {d.kind: d for d in package.disclosures}
    assert "coordinates.latitude" in by_kind["facility"].withheld
    assert set(by_kind["batch"].revealed) == {
        "documents.assayCertificate"
    }  # notes withheld at the buyer tier
    assert by_kind["batch"].anchor_tx is not None

    one_line_error(
        run(
            "records",
            "receive",
            str(pkg),
            "--batch",
            str(chain.other_lot),
            "--vault",
            str(buyer),
            *chain.args,
        ),
        f"for batch {chain.lot}, not batch {chain.other_lot}",
    )
    received = ok_json(
        run(
            "records",
            "receive",
            str(pkg),
            "--batch",
            str(chain.lot),
            "--vault",
            str(buyer),
            *chain.args,
            "--json",
        )
    )
    assert received["checked"] == 3 and len(received["kept"]) == 3
    # The buyer passes them on at the public tier: narrowed, still verifying.
    onward = chain.tmp / "onward.json"
    ok_json(_share(chain, buyer, chain.lot, onward, "public"))
    for d in Package.load(onward).disclosures:
        assert set(d.revealed) <= {"address.country", "kind", "didWeb"} and d.check() == []

    # A package for another batch's lineage: its subjects are not the other batch's.
    data = json.loads(pkg.read_text())
    data["batch_id"] = chain.other_lot
    relabelled = write(chain.tmp / "relabelled.json", data)
    one_line_error(
        run("records", "receive", str(relabelled), "--vault", str(buyer), *chain.args),
        f"package disclosure batch {chain.lot}: not in batch {chain.other_lot}'s lineage",
    )
    # A disclosure whose root is not on chain: a consistent record that was never put.
    never = disclose(salt_record("facility", str(chain.mine), {**SITE, "name": "Mine Z"}, None), ["name"])
    forged = Package(chain_id=package.chain_id, batch_id=chain.lot, tier="buyer", disclosures=[never])
    forged.save(chain.tmp / "forged.json")
    one_line_error(
        run("records", "receive", str(chain.tmp / "forged.json"), "--vault", str(buyer), *chain.args),
        f"package disclosure facility {chain.mine}: root {never.root} is not on chain",
    )
    # A revealed value altered in the file.
    data = json.loads(pkg.read_text())
    for d in data["disclosures"]:
        if d["kind"] == "facility":
            d["revealed"]["name"]["value"] = "Mine Z"
    one_line_error(
        run(
            "records",
            "receive",
            str(write(chain.tmp / "altered.json", data)),
            "--vault",
            str(buyer),
            *chain.args,
        ),
        f"package disclosure facility {chain.mine} field name: the value or salt does not match its committed leaf",
    )


def test_encrypted_package_needs_the_recipient_key(chain: Chain) -> None:
    from eth_keys.datatypes import PrivateKey

    seller = chain.tmp / "vault-seller-2"
    ok_json(
        put(
            chain,
            seller,
            "facility",
            str(chain.mine),
            write(chain.tmp / "f2.json", {**SITE, "name": "Mine A"}),
            "mine-a",
        )
    )
    refinery = dev_accounts()[DEV_ROLES.index("refinery")]
    key = "0x" + PrivateKey(refinery.key).public_key.to_bytes().hex()
    pkg = chain.tmp / "sealed.json"
    proc = run(
        "records",
        "share",
        "--batch",
        str(chain.lot),
        "--out",
        str(pkg),
        "--encrypt-to",
        key,
        "--vault",
        str(seller),
        *chain.args,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Mine A" not in pkg.read_text()
    one_line_error(
        run(
            "records",
            "receive",
            str(pkg),
            "--dev-account",
            "mine-a",
            "--vault",
            str(chain.tmp / "v-x"),
            *chain.args,
        ),
        f"encrypted to {refinery.address}",
    )
    ok_json(
        run(
            "records",
            "receive",
            str(pkg),
            "--dev-account",
            "refinery",
            "--vault",
            str(chain.tmp / "v-r"),
            *chain.args,
            "--json",
        )
    )


@pytest.mark.parametrize("point", ["stored", "pending", "sent"])
def test_kill_9_at_each_point_of_a_put_leaves_vault_and_chain_consistent(chain: Chain, point: str) -> None:
    vault = chain.tmp / f"vault-crash-{point}"
    base = write(chain.tmp / f"base-{point}.json", {**SITE, "name": f"Mine {point}"})
    first = ok_json(put(chain, vault, "facility", str(chain.mine), base, "mine-a"))
    changed = write(chain.tmp / f"changed-{point}.json", {**SITE, "name": f"Mine {point} renamed"})
    crashed = put(
        chain, vault, "facility", str(chain.mine), changed, "mine-a", env={"PASSPORT_CRASH_AT": point}
    )
    assert crashed.returncode == -signal.SIGKILL
    shown = ok_json(show(chain, vault, "facility", str(chain.mine)))
    assert shown["on_chain"], shown  # the vault's current record is the one whose root is on chain
    expected = f"Mine {point} renamed" if point == "sent" else f"Mine {point}"
    assert shown["record"]["name"] == expected
    assert chain.sdk.consortium.facility(chain.mine).record_root == shown["root"]
    assert (shown["root"] == first["root"]) == (point != "sent")
    again = ok_json(put(chain, vault, "facility", str(chain.mine), changed, "mine-a"))
    assert again["changed"] == (point != "sent")  # a put whose root landed is not sent twice
    assert chain.sdk.consortium.facility(chain.mine).record_root == again["root"]


def test_kill_9_at_random_moments(chain: Chain) -> None:
    vault, rng = chain.tmp / "vault-random", random.Random(20261130)
    for n in range(6):
        file = write(chain.tmp / f"r{n}.json", {**SITE, "name": f"Mine R{n}"})
        proc = subprocess.Popen(
            [
                PASSPORT,
                "records",
                "put",
                "facility",
                str(chain.mine),
                str(file),
                "--vault",
                str(vault),
                "--dev-account",
                "mine-a",
                *chain.args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.8, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        shown = show(chain, vault, "facility", str(chain.mine))
        if shown.returncode == 0:
            data = json.loads(shown.stdout)
            assert data["on_chain"], data
            assert chain.sdk.consortium.facility(chain.mine).record_root == data["root"]
        else:  # killed before any put of this vault completed
            one_line_error(shown, "not in the vault")
    final = ok_json(
        put(chain, vault, "facility", str(chain.mine), write(chain.tmp / "final.json", SITE), "mine-a")
    )
    assert chain.sdk.consortium.facility(chain.mine).record_root == final["root"]


def test_losing_the_vault_loses_disclosure_not_the_chain(chain: Chain) -> None:
    vault = chain.tmp / "vault-lost"
    done = ok_json(
        put(
            chain,
            vault,
            "facility",
            str(chain.mine),
            write(chain.tmp / "lost.json", {**SITE, "name": "Mine L"}),
            "mine-a",
        )
    )
    import shutil

    shutil.rmtree(vault)
    assert chain.sdk.consortium.facility(chain.mine).record_root == done["root"]
    one_line_error(show(chain, vault, "facility", str(chain.mine)), "not in the vault")
    shared = ok_json(_share(chain, vault, chain.lot, chain.tmp / "empty.json"))
    assert shared["disclosures"] == []
