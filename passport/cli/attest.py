"""``passport attest``: sign offline, submit, revoke, verify."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from passport.cli._common import ChainArgs, SignerArgs, chain_options, emit, hex32, signer_options
from passport.core.types import SubjectKind
from passport.exceptions import DeploymentNotFound, PassportFileInvalid
from passport.sdk.attestations import AttestationRequest, SignedAttestation, sign_attestation


@click.group("attest")
def attest() -> None:
    """Attestations: sign offline (EIP-712), submit (anyone relays), attest directly, revoke, verify."""


def _request(
    schema_id: int, subject: str, data_hash: str, expires_in_days: int, salt: str
) -> AttestationRequest:
    subject_int = int(subject, 16) if subject.startswith("0x") else int(subject)
    expires = int(time.time()) + expires_in_days * 86_400 if expires_in_days else 0
    return AttestationRequest(schema_id, subject_int, hex32(data_hash), expires, hex32(salt))


def _registry_record(deployments_dir: Path, network: str) -> tuple[int, str]:
    path = deployments_dir / network / "AttestationRegistry.json"
    if not path.is_file():
        raise DeploymentNotFound(network, "AttestationRegistry", str(path))
    try:
        data = json.loads(path.read_text())
        return int(data["chainId"]), str(data["address"])
    except (ValueError, KeyError) as exc:
        raise PassportFileInvalid(str(path), f"not a deployment record ({exc})") from exc


common_claim = [
    click.option("--schema-id", type=int, required=True),
    click.option("--subject", required=True, help="Batch id, facility id, or member address."),
    click.option("--data-hash", required=True, help="Hash of the evidence (32 bytes hex)."),
    click.option(
        "--expires-in-days", type=click.IntRange(min=0), default=365, show_default=True, help="0: never."
    ),
    click.option("--salt", default="0x" + "00" * 32, help="Distinguishes otherwise equal claims."),
]


F = TypeVar("F", bound=Callable[..., Any])


def _claim(fn: F) -> F:
    for option in reversed(common_claim):
        fn = option(fn)
    return fn


@attest.command("schema")
@click.argument("name")
@click.option(
    "--subject",
    "subject_kind",
    type=click.Choice([k.name for k in SubjectKind], case_sensitive=False),
    required=True,
    help="What attestations of this schema are about.",
)
@click.option("--irrevocable", is_flag=True, help="Attestations of this schema cannot be revoked.")
@chain_options
@signer_options
def schema(name: str, subject_kind: str, irrevocable: bool, chain: ChainArgs, sender: SignerArgs) -> None:
    """Register attestation schema NAME (a consortium admin signs)."""
    sdk = chain.sdk()
    schema_id = sdk.attestations.register_schema(
        sender.account(), name, not irrevocable, SubjectKind[subject_kind.upper()]
    ).value
    emit(chain.as_json, {"schemaId": schema_id, "name": name}, f"registered schema {schema_id}: {name}")


@attest.command("sign")
@_claim
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--deadline-days", type=click.IntRange(min=1), default=7, show_default=True, help="Relay window."
)
@click.option("--network", default="local", show_default=True)
@click.option(
    "--deployments",
    "deployments_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("deployments"),
)
@signer_options
@click.option("--json", "as_json", is_flag=True)
def sign(
    schema_id: int,
    subject: str,
    data_hash: str,
    expires_in_days: int,
    salt: str,
    out: Path,
    deadline_days: int,
    network: str,
    deployments_dir: Path,
    sender: SignerArgs,
    as_json: bool,
) -> None:
    """Sign an attestation offline (no RPC) into a JSON file anyone can submit."""
    chain_id, registry = _registry_record(deployments_dir, network)
    signed = sign_attestation(
        sender.account(),
        chain_id,
        registry,
        _request(schema_id, subject, data_hash, expires_in_days, salt),
        int(time.time()) + deadline_days * 86_400,
    )
    signed.save(out)
    emit(as_json, {"uid": signed.uid, "file": str(out)}, f"signed attestation {signed.uid} -> {out}")


@attest.command("submit")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@chain_options
@signer_options
def submit(file: Path, chain: ChainArgs, sender: SignerArgs) -> None:
    """Relay a signed attestation FILE (the signer pays the gas, not the certifier)."""
    signed = SignedAttestation.load(file)
    uid = chain.sdk().attestations.submit(sender.account(), signed).value
    emit(chain.as_json, {"uid": uid}, f"recorded attestation {uid}")


@attest.command("direct")
@_claim
@chain_options
@signer_options
def direct(
    schema_id: int,
    subject: str,
    data_hash: str,
    expires_in_days: int,
    salt: str,
    chain: ChainArgs,
    sender: SignerArgs,
) -> None:
    """Attest on-chain as the signer (an accredited certifier)."""
    sdk = chain.sdk()
    uid = sdk.attestations.attest(
        sender.account(), _request(schema_id, subject, data_hash, expires_in_days, salt)
    ).value
    emit(chain.as_json, {"uid": uid}, f"recorded attestation {uid}")


@attest.command("revoke")
@click.argument("uid")
@chain_options
@signer_options
def revoke(uid: str, chain: ChainArgs, sender: SignerArgs) -> None:
    """Revoke attestation UID (its certifier only)."""
    hex32(uid)
    chain.sdk().attestations.revoke(sender.account(), uid)
    emit(chain.as_json, {"uid": uid, "revoked": True}, f"revoked {uid}")


@attest.command("verify")
@click.argument("uid")
@chain_options
def verify(uid: str, chain: ChainArgs) -> None:
    """Whether UID is valid now (exists, unrevoked, unexpired, certifier accredited when it attested)."""
    hex32(uid)
    sdk = chain.sdk()
    record = sdk.attestations.get(uid)
    valid = sdk.attestations.is_valid(uid)
    emit(
        chain.as_json,
        {"valid": valid, "attestation": record},
        f"{uid}: {'VALID' if valid else 'NOT VALID'} (certifier {record.certifier})",
    )
