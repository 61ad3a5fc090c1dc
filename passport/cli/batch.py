"""``passport batch``: mint, hand over, split, process, regulator actions, show."""

from __future__ import annotations

import sys

import click

from passport.cli._common import (
    ADDRESS,
    MASS,
    ChainArgs,
    SignerArgs,
    chain_options,
    emit,
    hex32,
    int_list,
    plain,
    signer_options,
)
from passport.core.types import ProcessOutput, Stage

STAGES = [s.name for s in Stage]


def _output(text: str) -> ProcessOutput:
    parts = text.split(":")
    if len(parts) not in (3, 4) or parts[0].upper() not in STAGES:
        raise click.BadParameter(
            f"{text!r}: expected STAGE:MASS_G:GRADE_PPM[:CONTENT_HASH], STAGE one of {', '.join(STAGES)}"
        )
    try:
        mass, grade = int(parts[1]), int(parts[2])
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: mass and grade must be integers") from exc
    content = hex32(parts[3]) if len(parts) == 4 else b"\x00" * 32
    return ProcessOutput(Stage[parts[0].upper()], mass, grade, content)


@click.group("batch")
def batch() -> None:
    """Batches: mint, offer, accept, split, process, freeze, taint, show."""


@batch.command("mint")
@click.option("--facility", "facility_id", type=int, required=True)
@click.option("--stage", type=click.Choice(STAGES, case_sensitive=False), required=True)
@click.option("--mass-g", type=click.IntRange(min=1), required=True, help="Net mass in grams.")
@click.option(
    "--grade-ppm", type=click.IntRange(1, 1_000_000), required=True, help="Tungsten grade, ppm of W."
)
@click.option(
    "--content-hash", default="0x" + "00" * 32, help="Documents/telemetry Merkle root (32 bytes hex)."
)
@chain_options
@signer_options
def mint(
    facility_id: int,
    stage: str,
    mass_g: int,
    grade_ppm: int,
    content_hash: str,
    chain: ChainArgs,
    sender: SignerArgs,
) -> None:
    """Record a new batch at a facility the signer operates."""
    sdk = chain.sdk()
    batch_id = sdk.batches.mint(
        sender.account(),
        facility_id,
        Stage[stage.upper()],
        mass_g,
        grade_ppm,
        hex32(content_hash),
    ).value
    emit(chain.as_json, {"batchId": batch_id}, f"minted batch {batch_id}")


@batch.command("offer")
@click.argument("batch_id", type=int)
@click.argument("to", type=ADDRESS)
@click.option("--custody-only", is_flag=True, help="Hand over physical custody only (e.g. to a carrier).")
@chain_options
@signer_options
def offer(batch_id: int, to: str, custody_only: bool, chain: ChainArgs, sender: SignerArgs) -> None:
    """Offer BATCH_ID to TO (an address or an account name), who must accept. Refused before
    sending when TO is not an active, unsanctioned member or an offer is already pending."""
    sdk = chain.sdk()
    account = sender.account()
    receiver = sdk.consortium.member(to)
    if not receiver.joined_at or not receiver.active or receiver.sanctioned:
        why = "sanctioned" if receiver.sanctioned else "not an active member of the consortium"
        raise click.ClickException(f"{to} is {why}: it could never accept batch {batch_id}")
    pending = sdk.batches.offer_of(batch_id)
    if pending is not None:
        raise click.ClickException(
            f"batch {batch_id} is already offered to {pending.to}; `passport batch cancel {batch_id}` first"
        )
    (sdk.batches.offer_custody if custody_only else sdk.batches.offer)(account, batch_id, to)
    emit(
        chain.as_json,
        {"batchId": batch_id, "to": to, "custodyOnly": custody_only},
        f"offered batch {batch_id} to {to}",
    )


@batch.command("cancel")
@click.argument("batch_id", type=int)
@chain_options
@signer_options
def cancel(batch_id: int, chain: ChainArgs, sender: SignerArgs) -> None:
    """Withdraw BATCH_ID's pending offer (its holder or custodian)."""
    sdk = chain.sdk()
    pending = sdk.batches.offer_of(batch_id)
    if pending is None:
        raise click.ClickException(f"batch {batch_id} has no pending offer")
    sdk.batches.cancel_offer(sender.account(), batch_id)
    emit(
        chain.as_json,
        {"batchId": batch_id, "cancelledTo": pending.to},
        f"withdrew the offer of batch {batch_id} to {pending.to}",
    )


@batch.command("accept")
@click.argument("batch_id", type=int)
@click.option(
    "--measured",
    "measured",
    type=MASS,
    default=None,
    help="Mass measured at receipt, with its unit: 5000kg, 12.5t, 800g.",
)
@click.option("--measured-g", type=click.IntRange(min=1), default=None, help="The same, in grams.")
@click.option("--yes", is_flag=True, help="Record a discrepancy beyond the tolerance without asking.")
@chain_options
@signer_options
def accept(
    batch_id: int,
    measured: int | None,
    measured_g: int | None,
    yes: bool,
    chain: ChainArgs,
    sender: SignerArgs,
) -> None:
    """Accept a pending offer of BATCH_ID with the mass measured at receipt. A measurement
    outside the hand-over tolerance is recorded for ever as a discrepancy: the recorded and
    measured masses are shown and --yes (or a yes at the prompt) is needed."""
    if (measured is None) == (measured_g is None):
        raise click.UsageError("give the measured mass once: --measured 5000kg (or --measured-g 5000000)")
    grams = measured if measured is not None else measured_g
    assert grams is not None
    sdk = chain.sdk()
    recorded = sdk.batches.get(batch_id).mass_grams
    tolerance = sdk.batches.mass_tolerance_bps()
    deviation = abs(grams - recorded) * 10_000 / recorded if recorded else 0
    if deviation > tolerance and not yes:
        change = (grams - recorded) / recorded * 100 if recorded else 0.0
        message = (
            f"batch {batch_id}: recorded {recorded:,} g, measured {grams:,} g ({change:+.2f} %), beyond the "
            f"{tolerance / 100:g} % hand-over tolerance: a discrepancy would be recorded for ever"
        )
        if not sys.stdin.isatty() or not click.confirm(message + ". Accept?", err=True):
            raise click.ClickException(message + "; check the unit, or give --yes to record it")
    discrepancy = sdk.batches.accept(sender.account(), batch_id, grams).value
    note = " (weight discrepancy recorded)" if discrepancy else ""
    emit(
        chain.as_json,
        {"batchId": batch_id, "measuredGrams": grams, "recordedGrams": recorded, "discrepancy": discrepancy},
        f"accepted batch {batch_id}: measured {grams:,} g against {recorded:,} g recorded{note}",
    )


@batch.command("split")
@click.argument("batch_id", type=int)
@click.option(
    "--masses", required=True, help="Comma-separated child masses in grams; they must sum to the parent's."
)
@chain_options
@signer_options
def split(batch_id: int, masses: str, chain: ChainArgs, sender: SignerArgs) -> None:
    """Split BATCH_ID into children."""
    sdk = chain.sdk()
    children = sdk.batches.split(sender.account(), batch_id, int_list(masses)).value
    emit(
        chain.as_json, {"batchId": batch_id, "children": children}, f"split batch {batch_id} into {children}"
    )


@batch.command("process")
@click.option("--inputs", required=True, help="Comma-separated input batch ids.")
@click.option("--facility", "facility_id", type=int, required=True)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    required=True,
    help="STAGE:MASS_G:GRADE_PPM[:CONTENT_HASH]; repeatable.",
)
@chain_options
@signer_options
def process(
    inputs: str, facility_id: int, outputs: tuple[str, ...], chain: ChainArgs, sender: SignerArgs
) -> None:
    """Turn inputs into outputs at the signer's facility (mass balance enforced on-chain)."""
    sdk = chain.sdk()
    produced = sdk.batches.process(
        sender.account(), int_list(inputs), facility_id, [_output(o) for o in outputs]
    ).value
    emit(chain.as_json, {"outputs": produced}, f"produced batches {produced}")


@batch.command("freeze")
@click.argument("batch_id", type=int)
@click.option("--reason", default="0x" + "00" * 32, help="Hash of the reasoning document.")
@click.option("--unfreeze", is_flag=True)
@chain_options
@signer_options
def freeze(batch_id: int, reason: str, unfreeze: bool, chain: ChainArgs, sender: SignerArgs) -> None:
    """Freeze (or unfreeze) BATCH_ID as a regulator."""
    sdk = chain.sdk()
    account = sender.account()
    if unfreeze:
        sdk.batches.unfreeze(account, batch_id)
    else:
        sdk.batches.freeze(account, batch_id, hex32(reason))
    emit(
        chain.as_json,
        {"batchId": batch_id, "frozen": not unfreeze},
        f"batch {batch_id} {'unfrozen' if unfreeze else 'frozen'}",
    )


@batch.command("taint")
@click.argument("batch_id", type=int)
@click.option("--reason", default="0x" + "00" * 32, help="Hash of the reasoning document.")
@chain_options
@signer_options
def taint(batch_id: int, reason: str, chain: ChainArgs, sender: SignerArgs) -> None:
    """Taint BATCH_ID as a regulator; its products inherit the taint."""
    chain.sdk().batches.taint(sender.account(), batch_id, hex32(reason))
    emit(chain.as_json, {"batchId": batch_id, "tainted": True}, f"batch {batch_id} tainted")


@batch.command("show")
@click.argument("batch_id", type=int)
@chain_options
def show(batch_id: int, chain: ChainArgs) -> None:
    """A batch's on-chain record."""
    sdk = chain.sdk()
    b = sdk.batches.get(batch_id)
    pending = sdk.batches.offer_of(batch_id)
    flags = ",".join(f.name or "" for f in type(b.flags) if f in b.flags) or "-"
    offered = (
        f", offered to {pending.to}{' (custody only)' if pending.custody_only else ''}" if pending else ""
    )
    emit(
        chain.as_json,
        {**plain(b), "pendingOffer": plain(pending)},
        f"batch {b.batch_id}: {b.stage.name} {b.mass_grams:,} g at {b.grade_ppm:,} ppm W "
        f"({b.contained_tungsten_ug / 1e6:,.0f} g W), facility {b.facility_id} ({b.country}), "
        f"owner {b.owner}, custodian {b.custodian}, flags {flags}{offered}",
    )
