"""Round trip: for random histories (mints, splits, processing, hand-overs with and without
discrepancies, cancelled offers, title transfers, freezes, taints, attestations) on the passport
node, export with evidence -> offline verify passes, and the exported claims equal the online
passport's."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from passport.core.types import BatchFlag, FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.evidence import verify_offline
from passport.sdk import AttestationRequest, Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.toolchain.anvil import RpcProcess

pytestmark = pytest.mark.slow

OPS = ("mint", "split", "process", "handover", "cancel", "transfer", "freeze", "taint", "attest")
NEXT_STAGE = {
    Stage.CONCENTRATE: Stage.APT,
    Stage.APT: Stage.OXIDE,
    Stage.OXIDE: Stage.POWDER,
    Stage.POWDER: Stage.WF6,
}
LOCKED = BatchFlag.CONSUMED | BatchFlag.FROZEN
# Every kind of step, in an order where each has something to act on.
RICH = [
    ("mint", 1), ("mint", 2), ("split", 7), ("handover", 3), ("cancel", 4), ("freeze", 9),
    ("transfer", 5), ("transfer", 6), ("attest", 8), ("handover", 10), ("mint", 11), ("process", 12),
    ("taint", 13), ("process", 14), ("handover", 15), ("attest", 16),
]  # fmt: skip


class World:
    def __init__(self, client: Client) -> None:
        self.admin, self.a, self.b, self.regulator, self.certifier = dev_accounts(5)
        founders = [
            Founder(self.admin.address, Role.ADMIN, "VN"),
            Founder(self.a.address, Role.MINER | Role.PROCESSOR | Role.TRADER, "VN"),
            Founder(self.b.address, Role.CARRIER | Role.TRADER | Role.BUYER, "KR"),
            Founder(self.regulator.address, Role.REGULATOR, "VN"),
            Founder(self.certifier.address, Role.CERTIFIER, "CH"),
        ]
        self.sdk = Sdk.deploy(client, self.admin, founders)
        gov = self.sdk.consortium
        gov.propose_facility(self.admin, self.a.address, "VN", FacilityKind.MINE, b"\x01" * 32)
        gov.propose_facility(self.admin, self.a.address, "VN", FacilityKind.REFINERY, b"\x02" * 32)
        self.schema = self.sdk.attestations.register_schema(
            self.admin, "assay", True, SubjectKind.BATCH
        ).value
        gov.propose_accreditation(self.admin, self.certifier.address, self.schema, 2_000_000_000)
        self.ids: list[int] = []
        self.accounts = {self.a.address: self.a, self.b.address: self.b}

    def live(self, rng: random.Random, **want: object) -> int | None:
        candidates = []
        for i in self.ids:
            b = self.sdk.batches.get(i)
            if b.flags & LOCKED:
                continue
            if want.get("movable") and (b.flags & (BatchFlag.TAINTED | BatchFlag.OFFER_PENDING)):
                continue
            if want.get("held_by_a") and not (b.owner == b.custodian == self.a.address):
                continue
            candidates.append(i)
        return rng.choice(candidates) if candidates else None

    def step(self, op: str, seed: int) -> None:
        rng = random.Random(seed)
        batches = self.sdk.batches
        if op == "mint" or not self.ids:
            mass, grade = rng.randint(1_000, 1_000_000), rng.randint(100_000, 800_000)
            self.ids.append(batches.mint(self.a, 1, Stage.CONCENTRATE, mass, grade).value)
        elif op == "split":
            i = self.live(rng, held_by_a=True)
            if i is not None and (mass := batches.get(i).mass_grams) >= 3:
                cut = sorted(rng.sample(range(1, mass), 2 if mass > 3 else 1))
                masses = [hi - lo for lo, hi in zip([0, *cut], [*cut, mass], strict=True)]
                self.ids += batches.split(self.a, i, masses).value
        elif op == "process":
            inputs = {x for x in (self.live(rng, held_by_a=True) for _ in range(3)) if x is not None}
            got = [batches.get(x) for x in inputs]
            stages = {b.stage for b in got}
            if got and all(s in NEXT_STAGE for s in stages):
                top = max(stages, key=int)
                contained = sum(b.mass_grams * b.grade_ppm for b in got)
                grade = rng.randint(500_000, 900_000)
                mass = max(1, contained // grade - rng.randint(0, 10))
                self.ids += batches.process(
                    self.a, sorted(inputs), 2, [ProcessOutput(NEXT_STAGE[top], mass, grade)]
                ).value
        elif op in ("handover", "cancel", "transfer"):
            i = self.live(rng, movable=True)
            if i is None:
                return
            b = batches.get(i)
            owner = self.accounts[b.owner]
            other = self.b if owner is self.a else self.a
            if op == "transfer":
                batches.transfer(owner, i, other.address)
                return
            custody_only = rng.random() < 0.4 and b.custodian == owner.address
            (batches.offer_custody if custody_only else batches.offer)(owner, i, other.address)
            if op == "cancel":
                batches.cancel_offer(rng.choice([owner, other]), i)
            else:
                measured = b.mass_grams + rng.choice([0, 1, -b.mass_grams // 50])
                batches.accept(other, i, max(1, measured))
        elif op == "freeze":
            i = self.live(rng)
            if i is not None:
                batches.freeze(self.regulator, i)
                if rng.random() < 0.7:
                    batches.unfreeze(self.regulator, i)
        elif op == "taint":
            i = self.live(rng)
            if i is not None and BatchFlag.TAINTED not in batches.get(i).flags:
                batches.taint(self.regulator, i, b"\x07" * 32)
        elif op == "attest":
            i = rng.choice(self.ids)
            request = AttestationRequest(self.schema, i, rng.randbytes(32), 0, rng.randbytes(32))
            self.sdk.attestations.attest(self.certifier, request)


@pytest.fixture(scope="module")
def node_client(dev_node: RpcProcess) -> Client:
    return Client.connect(dev_node.url)


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a failure prints its steps; shrinking on a chain is slow
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(steps=RICH)
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2**32)), min_size=4, max_size=16))
def test_export_then_offline_verify(node_client: Client, steps: list[tuple[str, int]]) -> None:
    world = World(node_client)
    for op, seed in steps:
        world.step(op, seed)
    trust = world.sdk.trust_anchor("Round trip")
    kinds: set[str] = set()
    chosen = world.ids if steps == RICH else {world.ids[-1], world.ids[len(world.ids) // 2], world.ids[0]}
    for batch_id in sorted(chosen):
        doc = world.sdk.export_with_evidence(batch_id)
        assert doc.claims() == world.sdk.passport_for(batch_id, doc.chain.as_of_block).claims()
        report = verify_offline(doc, trust)
        assert report.ok, (steps, batch_id, report.failures)
        kinds |= {e.type for e in doc.custody} | {e.type for e in doc.regulatory}
        kinds |= {t.biz_step for t in doc.transformations} | ({"attested"} if doc.attestations else set())
    if steps == RICH:  # the explicit example exercises every kind of history the passport lists
        assert kinds >= {
            "minted", "offered", "accepted", "cancelled", "title-transfer", "frozen", "splitting",
            "transforming", "attested",
        }, kinds  # fmt: skip
