"""EIP-712 attestations and telemetry Merkle proofs, checked against the contracts' own code,
on the embedded chain and on anvil."""

from __future__ import annotations

import itertools

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passport.core.types import FacilityKind, Role, Stage, SubjectKind
from passport.exceptions import ContractRevert
from passport.sdk import Call, Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts
from passport.sdk.attestations import AttestationRequest, sign_attestation, typed_data
from passport.sdk.telemetry import MerkleTree, Reading

pytestmark = pytest.mark.slow
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_EXAMPLES = itertools.count()
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
uint64 = st.integers(min_value=0, max_value=2**64 - 1)
bytes32 = st.binary(min_size=32, max_size=32)


@pytest.fixture(scope="module")
def sdk(chain: Client) -> Sdk:
    admin, miner, certifier = dev_accounts(3)
    founders = [
        Founder(admin.address, Role.ADMIN, "VN"),
        Founder(miner.address, Role.MINER, "VN"),
        Founder(certifier.address, Role.CERTIFIER, "CH"),
    ]
    sdk = Sdk.deploy(chain, admin, founders)
    sdk.consortium.propose_facility(admin, miner.address, "VN", FacilityKind.MINE)
    schema = sdk.attestations.register_schema(admin, "origin-verified", True, SubjectKind.BATCH).value
    _n, _h, now = chain.head()
    sdk.consortium.propose_accreditation(admin, certifier.address, schema, now + 365 * 86_400)
    sdk.batches.mint(miner, 1, Stage.CONCENTRATE, 1_000_000, 650_000)
    return sdk


@SETTINGS
@given(
    certifier=st.binary(min_size=20, max_size=20),
    schema_id=uint256,
    subject=uint256,
    data_hash=bytes32,
    expires_at=uint64,
    deadline=uint64,
    salt=bytes32,
)
def test_digest_matches_the_contract(
    sdk: Sdk,
    certifier: bytes,
    schema_id: int,
    subject: int,
    data_hash: bytes,
    expires_at: int,
    deadline: int,
    salt: bytes,
) -> None:
    who = to_checksum_address(certifier)
    request = AttestationRequest(schema_id, subject, data_hash, expires_at, salt)
    signable = encode_typed_data(
        full_message=typed_data(
            sdk.client.chain_id, sdk.attestations.contract.address, who, request, deadline
        )
    )
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    call = Call(sdk.attestations.contract, "attestationDigest", (request.as_tuple(), who, deadline))
    assert sdk.client.call(call) == expected


@SETTINGS
@given(key=st.integers(min_value=1, max_value=2**255), data_hash=bytes32, salt=bytes32)
def test_only_the_certifier_signature_is_accepted(sdk: Sdk, key: int, data_hash: bytes, salt: bytes) -> None:
    certifier, relayer = dev_accounts(3)[2], dev_accounts(3)[1]
    _n, _h, now = sdk.client.head()
    # A fresh salt per example: hypothesis may replay an example within the same block second.
    request = AttestationRequest(
        1, 1, data_hash, now + 86_400, keccak(salt + next(_EXAMPLES).to_bytes(8, "big"))
    )
    impostor = Account.from_key(key.to_bytes(32, "big"))
    forged = sign_attestation(
        impostor, sdk.client.chain_id, sdk.attestations.contract.address, request, now + 3_600
    )
    forged = forged.model_copy(update={"certifier": certifier.address})
    if impostor.address != certifier.address:
        with pytest.raises(ContractRevert, match=r"AttestationInvalidSignature\(certifier="):
            sdk.attestations.submit(relayer, forged)
    genuine = sdk.attestations.sign(certifier, request, now + 3_600)
    assert sdk.attestations.submit(relayer, genuine).value == genuine.uid
    assert sdk.attestations.is_valid(genuine.uid)


readings = st.lists(
    st.builds(
        Reading,
        device=st.binary(min_size=20, max_size=20).map(to_checksum_address),
        facility_id=st.integers(min_value=0, max_value=2**32 - 1),
        time=st.integers(min_value=0, max_value=2**64 - 1),
        kind=st.sampled_from(["net-mass", "moisture", "wo3-grade", "gps-fix"]),
        value=st.integers(min_value=-(2**255), max_value=2**255 - 1),
        unit=st.sampled_from(["g", "milli-percent", "ppm"]),
    ),
    min_size=1,
    max_size=9,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=readings, pick=st.integers(min_value=0))
def test_merkle_proofs_verify_in_the_contract(sdk: Sdk, items: list[Reading], pick: int) -> None:
    miner = dev_accounts(3)[1]
    tree = MerkleTree.of_readings(items)
    batch_id = sdk.batches.mint(miner, 1, Stage.ORE, 1_000, 10_000, tree.root).value
    index = pick % len(items)
    leaf, proof = items[index].leaf(), tree.proof(index)
    passport = sdk.contracts.passport
    assert sdk.client.call(Call(passport, "verifyTelemetry", (batch_id, leaf, proof)))
    assert not sdk.client.call(Call(passport, "verifyTelemetry", (batch_id, keccak(leaf), proof)))
