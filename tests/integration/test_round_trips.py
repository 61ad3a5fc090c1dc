"""Passport assembly costs round trips in proportion to lineage depth, not to its width or to
the chain's length (anvil: JSON-RPC batches over HTTP)."""

from __future__ import annotations

import pytest

from passport.core.types import FacilityKind, ProcessOutput, Role, Stage
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import Anvil

pytestmark = pytest.mark.slow


def _lineage(sdk: Sdk, width: int) -> int:
    """mint `width` lots -> split each in two -> process all halves into one APT lot: depth 3."""
    producer = dev_accounts(2)[1]
    lots = [sdk.batches.mint(producer, 1, Stage.CONCENTRATE, 1_000, 500_000).value for _ in range(width)]
    halves = [c for lot in lots for c in sdk.batches.split(producer, lot, [500, 500]).value]
    return sdk.batches.process(producer, halves, 2, [ProcessOutput(Stage.APT, width * 500, 700_000)]).value[0]


def test_round_trips_follow_depth(anvil: Anvil) -> None:
    client = Client.connect(anvil.url)
    admin, producer = dev_accounts(2)
    founders = [
        Founder(admin.address, Role.ADMIN, "VN"),
        Founder(producer.address, Role.MINER | Role.PROCESSOR, "VN"),
    ]
    sdk = Sdk.deploy(client, admin, founders)
    sdk.consortium.propose_facility(admin, producer.address, "VN", FacilityKind.MINE)
    sdk.consortium.propose_facility(admin, producer.address, "VN", FacilityKind.REFINERY)

    def trips(batch_id: int) -> tuple[int, int]:
        before = client.rpc_round_trips
        doc = sdk.passport_for(batch_id)
        return client.rpc_round_trips - before, len(doc.lineage.nodes)

    narrow_trips, narrow_nodes = trips(_lineage(sdk, 2))
    wide_trips, wide_nodes = trips(_lineage(sdk, 30))
    assert (narrow_nodes, wide_nodes) == (7, 91)
    assert narrow_trips == wide_trips
    assert wide_trips <= 3 + 8  # one batch per level, then facilities, logs, schemas, attestations, times
