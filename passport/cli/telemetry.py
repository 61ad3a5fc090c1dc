"""``passport telemetry``: Merkle roots of signed device readings, and inclusion proofs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from passport.cli._common import emit, json_option
from passport.exceptions import PassportFileInvalid
from passport.sdk.telemetry import MerkleTree, Reading, SignedReading, verify_proof


def _readings(path: Path) -> list[SignedReading]:
    try:
        rows = json.loads(path.read_text())
        return [
            SignedReading(
                Reading(
                    r["device"],
                    int(r["facility_id"]),
                    int(r["time"]),
                    str(r["kind"]),
                    int(r["value"]),
                    str(r["unit"]),
                    int(r.get("seq", 0)),
                ),
                bytes.fromhex(str(r["signature"]).removeprefix("0x")),
            )
            for r in rows
        ]
    except FileNotFoundError as exc:
        raise PassportFileInvalid(str(path), "no such file") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise PassportFileInvalid(
            str(path),
            "expected a JSON list of readings with device, facility_id, time, kind, value, unit,"
            f" signature ({exc})",
        ) from exc


@click.group("telemetry")
def telemetry() -> None:
    """Signed IoT readings: anchor as a Merkle root, prove inclusion."""


@telemetry.command("anchor")
@click.argument("readings", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def anchor(readings: Path, as_json: bool) -> None:
    """Check each reading's device signature and print the Merkle root to mint with (--content-hash)."""
    signed = _readings(readings)
    bad = [n for n, s in enumerate(signed) if not s.is_from_device()]
    if bad:
        raise PassportFileInvalid(str(readings), f"readings {bad} are not signed by their device key")
    root = "0x" + MerkleTree([s.reading.leaf() for s in signed]).root.hex()
    emit(as_json, {"root": root, "readings": len(signed)}, root)


@telemetry.command("prove")
@click.argument("readings", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("index", type=int)
@json_option
def prove(readings: Path, index: int, as_json: bool) -> None:
    """Inclusion proof of reading INDEX (for MineralPassport.verifyTelemetry)."""
    signed = _readings(readings)
    if not 0 <= index < len(signed):
        raise click.BadParameter(f"index {index} is outside 0..{len(signed) - 1}")
    tree = MerkleTree([s.reading.leaf() for s in signed])
    leaf, proof = signed[index].reading.leaf(), tree.proof(index)
    assert verify_proof(tree.root, leaf, proof)
    data = {
        "root": "0x" + tree.root.hex(),
        "leaf": "0x" + leaf.hex(),
        "proof": ["0x" + p.hex() for p in proof],
    }
    emit(as_json, data, json.dumps(data, indent=2))
