"""Lots linked to the readings that weighed them: the passport carries each reading with its proofs,
the offline verifier checks them against the chain, and the ``device-weighed`` policy passes for a
weighed lot and fails for a lot minted without a reading or with another mass; a reading from
another facility's device is refused."""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from passport.core.document import DeviceReading, TelemetryWindow, Weighing
from passport.core.policy import DeviceWeighed, Policy, check
from passport.core.types import FacilityKind, Stage
from passport.evidence import verify_offline
from passport.exceptions import SdkError
from passport.gateway.ingest import as_json
from passport.sdk.accounts import dev_accounts
from passport.sdk.telemetry import MerkleTree, Reading, sign_reading
from tests.gateway.conftest import Site

pytestmark = pytest.mark.slow
POLICY = Policy(name="weighed", rules=[DeviceWeighed(type="device-weighed")])


def weigh(
    site: Site, facility: int, key: Account, grams: int, lot_mass: int, seq: int
) -> tuple[int, Weighing]:
    """Sign a net-mass reading, anchor its window, mint a lot of ``lot_mass`` with it in its root."""
    now = int(time.time())
    signed = [
        sign_reading(key, Reading(key.address, facility, now, "net-mass", grams, "g", seq)),
        sign_reading(key, Reading(key.address, facility, now + 1, "moisture", 900, "milli-percent", seq + 1)),
    ]
    window = MerkleTree([s.reading.leaf() for s in signed])
    c = site.sdk.contracts.consortium.functions
    site.sdk.client.transact(site.operator, c.anchorTelemetry(site.facility, window.root, 2, now, now + 1))
    lot_tree = MerkleTree([s.reading.leaf() for s in signed])
    lot = site.sdk.batches.mint(
        site.operator, site.facility, Stage.CONCENTRATE, lot_mass, 650_000, lot_tree.root
    ).value
    w = Weighing(
        batch_id=lot,
        reading=DeviceReading.model_validate(as_json(signed[0])),
        lot_proof=["0x" + h.hex() for h in lot_tree.proof(0)],
        window=TelemetryWindow(root="0x" + window.root.hex(), count=2, from_time=now, to_time=now + 1),
        window_proof=["0x" + h.hex() for h in window.proof(0)],
    )
    return lot, w


def test_device_weighed_passes_only_for_a_lot_weighed_at_its_mass(site: Site) -> None:
    trust = site.sdk.trust_anchor("site")
    key = site.devices[0]
    lot, w = weigh(site, site.facility, key, 10_000_000, 10_020_000, 1_000)  # 0.2 % apart
    doc = site.sdk.export_with_evidence(lot, readings=[w])
    report = verify_offline(doc, trust, policies=())
    assert report.ok, report.failures
    assert check(doc, POLICY).ok
    bare = site.sdk.export_with_evidence(lot)
    assert check(bare, POLICY).reasons == [
        f"origin batch {lot}: no net-mass reading from a device of its facility"
    ]
    heavy, w2 = weigh(site, site.facility, key, 10_000_000, 10_200_000, 2_000)  # 2 % apart
    off = site.sdk.export_with_evidence(heavy, readings=[w2])
    assert verify_offline(off, trust, policies=()).ok
    assert check(off, POLICY).reasons == [
        f"origin batch {heavy}: minted 10,200,000 g, the device read 10,000,000 g (tolerance 0.5 %)"
    ]


def test_a_reading_from_another_facilitys_device_is_refused(site: Site) -> None:
    site.sdk.consortium.propose_facility(dev_accounts(1)[0], site.operator.address, "VN", FacilityKind.MINE)
    other = site.sdk.consortium.facility_count()
    stranger = Account.create()
    site.sdk.consortium.register_device(site.operator, stranger.address, other)
    lot, w = weigh(site, site.facility, stranger, 5_000_000, 5_000_000, 3_000)
    with pytest.raises(SdkError, match=r"device .* is bound to facility"):
        site.sdk.export_with_evidence(lot, readings=[w])
    # Grafted onto a passport exported without it, the reading lacks the proofs it needs.
    doc = site.sdk.export_with_evidence(lot).model_copy(update={"readings": [w]})
    report = verify_offline(doc, site.sdk.trust_anchor("site"), policies=())
    assert not report.ok and any("telemetry anchor" in f.where for f in report.failures)
