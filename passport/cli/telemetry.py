"""``passport telemetry``: Merkle roots of signed device readings, and inclusion proofs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from passport._utils.files import atomic_write
from passport.cli._common import ChainArgs, chain_options, emit, json_option, network_anchor
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
@click.argument("readings", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.argument("index", type=int, required=False)
@click.option(
    "--reading", "reading_id", default=None, help="DEVICE:SEQ, a reading a gateway stored (--data-dir)."
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="The gateway's."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the proof here."
)
@click.option(
    "--evidence",
    is_flag=True,
    help="With --reading: add the proofs (read from the chain) that let `telemetry verify --trust` "
    "check it offline: the anchor block's header, the anchoring receipt, the window's anchor and the "
    "device's binding at that block.",
)
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --evidence on a CometBFT network: its trust anchor, to prove the block from its height.",
)
@chain_options
def prove(
    readings: Path | None,
    index: int | None,
    reading_id: str | None,
    data_dir: Path | None,
    out: Path | None,
    evidence: bool,
    trust_file: Path | None,
    chain: ChainArgs,
) -> None:
    """Inclusion proof of reading INDEX of the READINGS file (for MineralPassport.verifyTelemetry),
    or, with --reading DEVICE:SEQ --data-dir DIR, of a reading a gateway stored: the reading, its
    signature, its Merkle proof and the anchor (tx, block, root); with --evidence, the proofs to
    check it offline too."""
    as_json = chain.as_json
    if (evidence or trust_file is not None) and reading_id is None:
        raise click.UsageError("--evidence and --trust go with --reading DEVICE:SEQ --data-dir DIR")
    if trust_file is not None and not evidence:
        raise click.UsageError("--trust goes with --evidence")
    if reading_id is not None:
        if readings is not None or data_dir is None:
            raise click.UsageError("--reading goes with --data-dir (the gateway's), without READINGS")
        data = _gateway_proof(reading_id, data_dir)
        if evidence:
            data = _with_evidence(data, chain, trust_file)
        if out is not None:
            atomic_write(out, json.dumps(data, indent=2) + "\n")
        emit(as_json, data, json.dumps(data, indent=2))
        return
    if readings is None or index is None:
        raise click.UsageError("give READINGS INDEX, or --reading DEVICE:SEQ --data-dir DIR")
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


@telemetry.command("weighing")
@click.argument("lot_readings", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("index", type=click.IntRange(min=0))
@click.option(
    "--lot", "batch_id", type=click.IntRange(min=1), required=True, help="The lot (batch id) weighed."
)
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The reading's proof from its gateway (`telemetry prove --reading`): its anchored window.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@json_option
def weighing(
    lot_readings: Path, index: int, batch_id: int, proof_file: Path, out: Path, as_json: bool
) -> None:
    """A passport's reading entry: reading INDEX of LOT_READINGS (the readings whose root the lot
    was minted with), its proof to that root, and its anchored window from the gateway's --proof.
    `passport export ID --readings FILE` attaches it; the export checks it against the chain."""
    from passport.core.document import DeviceReading, TelemetryWindow, Weighing

    signed = _readings(lot_readings)
    if index >= len(signed):
        raise click.BadParameter(f"index {index} is outside 0..{len(signed) - 1}", param_hint="INDEX")
    try:
        data = json.loads(proof_file.read_text())
        reading = DeviceReading.model_validate(data["reading"])
        w = data["window"]
        window = TelemetryWindow(
            root=w["root"],
            count=w["count"],
            from_time=w.get("fromTime", w.get("from_time")),  # a gateway's proof, or a @2 file's
            to_time=w.get("toTime", w.get("to_time")),
        )
        window_proof = [str(h) for h in data.get("proof", data.get("window_proof"))]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PassportFileInvalid(str(proof_file), f"not a reading's proof from a gateway ({exc})") from exc
    mine = signed[index]
    if (mine.reading.device.lower(), mine.reading.seq, "0x" + mine.signature.hex()) != (
        reading.device.lower(),
        reading.seq,
        reading.signature,
    ):
        raise click.UsageError(
            f"reading {index} of {lot_readings} is {mine.reading.device}:{mine.reading.seq}; "
            f"{proof_file} proves {reading.device}:{reading.seq}"
        )
    tree = MerkleTree([s.reading.leaf() for s in signed])
    entry = Weighing(
        batch_id=batch_id,
        reading=reading,
        lot_proof=["0x" + p.hex() for p in tree.proof(index)],
        window=window,
        window_proof=window_proof,
    )
    atomic_write(out, entry.model_dump_json(indent=2) + "\n")
    emit(
        as_json,
        {"file": str(out), "batchId": batch_id, "lotRoot": "0x" + tree.root.hex()},
        f"wrote {out}: reading {reading.device}:{reading.seq} of lot {batch_id} "
        f"(its root 0x{tree.root.hex()})",
    )


def _with_evidence(data: dict[str, Any], chain: ChainArgs, trust_file: Path | None) -> dict[str, Any]:
    """The gateway's proof of a reading as a ``telemetry-proof@2`` file: with the evidence that
    proves its window's anchor and its device's binding at the anchor block."""
    from passport.core.document import DeviceReading, TelemetryWindow
    from passport.sdk.evidence import telemetry_proof

    trust = network_anchor(trust_file)
    w = data["window"]
    window = TelemetryWindow(root=w["root"], count=w["count"], from_time=w["fromTime"], to_time=w["toTime"])
    sdk = chain.sdk()
    proof = telemetry_proof(
        sdk.contracts,
        DeviceReading.model_validate(data["reading"]),
        window,
        data["proof"],
        data["anchor"]["tx"],
        trust,
    )
    out: dict[str, Any] = json.loads(proof.to_json())
    return out


def _gateway_proof(reading_id: str, data_dir: Path) -> dict[str, Any]:
    from eth_utils import is_address, to_checksum_address

    from passport.gateway.service import proof_of
    from passport.gateway.store import Store

    device, _, seq = reading_id.partition(":")
    if not is_address(device) or not seq.isdigit():
        raise click.BadParameter(
            f"{reading_id!r}: expected DEVICE:SEQ, e.g. 0xAbC…:42", param_hint="--reading"
        )
    if not (data_dir / "gateway.sqlite").is_file():
        raise click.BadParameter(f"{data_dir} holds no gateway store", param_hint="--data-dir")
    store = Store(data_dir)
    try:
        data = proof_of(store, to_checksum_address(device), int(seq))
    finally:
        store.close()
    if data is None:
        raise click.ClickException(f"the gateway has no reading {reading_id}")
    if data["anchor"] is None:
        raise click.ClickException(f"reading {reading_id} is stored but its window is not anchored yet")
    return data


@telemetry.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Check a proof made with --evidence offline, against this trust anchor (no network).",
)
@chain_options
def verify(file: Path, trust_file: Path | None, chain: ChainArgs) -> None:
    """Check a reading's proof FILE (from `telemetry prove --reading`): the device's signature, the
    Merkle proof to the window's root, the root's anchor (facility, block, transaction), and the
    device's binding to the facility at the anchor block. With --trust, offline from the proofs
    the file carries (`prove --evidence`); else against the chain. Exit 1 on failure."""
    from passport.exceptions import ReadingRejected
    from passport.gateway.ingest import parse, signer

    if trust_file is not None:
        _verify_offline(file, trust_file, chain.as_json)
        return

    try:
        data = json.loads(file.read_text())
        signed = parse(data["reading"])
        root = bytes.fromhex(data["window"]["root"][2:])
        proof = [bytes.fromhex(p[2:]) for p in data["proof"]]
        anchor = data["anchor"]
        tx, block = str(anchor["tx"]), int(anchor["block"])
    except (OSError, ValueError, KeyError, TypeError, ReadingRejected) as exc:
        raise PassportFileInvalid(str(file), f"not a telemetry proof ({exc})") from exc
    r = signed.reading
    checks: list[tuple[str, bool, str]] = []
    checks.append(("signature", signer(signed) == r.device, f"signed by {r.device}"))
    checks.append(("merkle proof", verify_proof(root, r.leaf(), proof), f"leaf in root 0x{root.hex()}"))
    sdk = chain.sdk()
    c = sdk.contracts.consortium
    facility, count, _from, _to, anchored_at = c.functions.telemetryAnchor(root).call()
    receipt = sdk.client.w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
    in_tx = any(
        log["address"] == c.address and len(log["topics"]) > 2 and bytes(log["topics"][2]) == root
        for log in receipt["logs"]
    )
    checks.append(
        (
            "anchor",
            anchored_at != 0 and facility == r.facility_id and in_tx and receipt["blockNumber"] == block,
            f"root anchored for facility {facility} in block {receipt['blockNumber']}, tx {tx}",
        )
    )
    bound, active = c.functions.device(r.device).call(block_identifier=block)
    checks.append(
        (
            "device",
            bound == r.facility_id and active,
            f"registered to facility {bound}, active {active}, at block {block}",
        )
    )
    ok = all(passed for _, passed, _ in checks)
    emit(
        chain.as_json,
        {"ok": ok, "checks": [{"check": n, "ok": p, "detail": d} for n, p, d in checks]},
        "\n".join(f"{'ok  ' if p else 'FAIL'} {n}: {d}" for n, p, d in checks)
        + f"\n{file}: {'verified' if ok else 'NOT verified'} ({count} readings in the window)",
    )
    if not ok:
        sys.exit(1)


def _verify_offline(file: Path, trust_file: Path, as_json: bool) -> None:
    from passport._utils.files import load_model
    from passport.evidence.telemetry import KIND, TelemetryProof, verify_telemetry
    from passport.evidence.trust import load_trust_anchor

    try:
        kind = json.loads(file.read_text()).get("kind")
    except (OSError, ValueError, AttributeError) as exc:
        raise PassportFileInvalid(str(file), f"not a telemetry proof ({exc})") from exc
    if kind != KIND:
        raise PassportFileInvalid(
            str(file), "carries no evidence to check offline: make it with `telemetry prove --evidence`"
        )
    proof = load_model(TelemetryProof, file)
    trust = load_trust_anchor(trust_file)
    report = verify_telemetry(proof, trust)
    r = proof.reading
    summary = (
        f"{file}: verified offline against {trust.name}: reading {r.device}:{r.seq} of facility "
        f"{r.facility}, in window {proof.window.root} anchored at block {report.anchored_at_block}, "
        "its device bound there and active"
        if report.ok
        else f"{file}: NOT verified\n" + "\n".join(f"FAIL {f}" for f in report.failures)
    )
    emit(
        as_json,
        {
            "ok": report.ok,
            "device": r.device,
            "seq": r.seq,
            "facility": r.facility,
            "anchoredAtBlock": report.anchored_at_block,
            "failures": [{"where": f.where, "reason": f.reason} for f in report.failures],
        },
        summary,
    )
    if not report.ok:
        sys.exit(1)
