"""``passport facility``: mine sites and plants."""

from __future__ import annotations

import click

from passport.cli._common import (
    ADDRESS,
    COUNTRY,
    ChainArgs,
    SignerArgs,
    chain_options,
    emit,
    hex32,
    signer_options,
)
from passport.cli.member import _proposal
from passport.core.types import FacilityKind


@click.group("facility")
def facility() -> None:
    """Facilities: proposals to register and sanction; records; device keys."""


@facility.command("add")
@click.option(
    "--operator", type=ADDRESS, required=True, help="Member operating the facility (address or account name)."
)
@click.option("--country", type=COUNTRY, required=True, help="ISO 3166-1 alpha-2 code of the site.")
@click.option(
    "--kind", type=click.Choice([k.name for k in FacilityKind], case_sensitive=False), required=True
)
@click.option(
    "--record-root",
    default="0x" + "00" * 32,
    help="Root of the facility record (32 bytes hex); `passport records put facility` sets it later.",
)
@chain_options
@signer_options
def add(
    operator: str, country: str, kind: str, record_root: str, chain: ChainArgs, sender: SignerArgs
) -> None:
    """Propose registering a facility."""
    sdk = chain.sdk()
    result = sdk.consortium.propose_facility(
        sender.account(), operator, country, FacilityKind[kind.upper()], hex32(record_root)
    )
    _proposal(chain.as_json, result, f"register {kind.upper()} in {country} operated by {operator}")


@facility.command("sanction")
@click.argument("facility_id", type=int)
@click.option("--lift", is_flag=True)
@chain_options
@signer_options
def sanction(facility_id: int, lift: bool, chain: ChainArgs, sender: SignerArgs) -> None:
    """Propose raising (or lifting) a facility's sanction flag."""
    sdk = chain.sdk()
    result = sdk.consortium.propose_facility_sanction(sender.account(), facility_id, not lift)
    _proposal(chain.as_json, result, f"{'lift sanction on' if lift else 'sanction'} facility {facility_id}")


@facility.command("show")
@click.argument("facility_id", type=int)
@chain_options
def show(facility_id: int, chain: ChainArgs) -> None:
    """A facility's record."""
    f = chain.sdk().consortium.facility(facility_id)
    flagged = " SANCTIONED" if f.sanctioned or f.operator_sanctioned else ""
    emit(
        chain.as_json,
        f,
        f"facility {f.facility_id}: {f.kind.name} in {f.country}, operator {f.operator}{flagged}",
    )


class _DeviceGroup(click.Group):
    """``facility device FACILITY_ID DEVICE``, the form before ``add`` and ``revoke`` existed,
    still binds: a first word that names no subcommand is read as ``add``."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands:
            return "add", self.commands["add"], args
        return super().resolve_command(ctx, args)


@facility.group("device", cls=_DeviceGroup)
def device() -> None:
    """Device keys (weighbridges, analysers) of a facility: bind and revoke."""


@device.command("add")
@click.argument("facility_id", type=int)
@click.argument("device_key", metavar="DEVICE", type=ADDRESS)
@chain_options
@signer_options
def device_add(facility_id: int, device_key: str, chain: ChainArgs, sender: SignerArgs) -> None:
    """Bind the key DEVICE to FACILITY_ID (its operator signs): its signed readings count there."""
    chain.sdk().consortium.register_device(sender.account(), device_key, facility_id)
    emit(
        chain.as_json,
        {"device": device_key, "facilityId": facility_id},
        f"device {device_key} bound to facility {facility_id}",
    )


@device.command("revoke")
@click.argument("device_key", metavar="DEVICE", type=ADDRESS)
@chain_options
@signer_options
def device_revoke(device_key: str, chain: ChainArgs, sender: SignerArgs) -> None:
    """Revoke the key DEVICE (its facility's operator signs): readings it signs from now on are
    refused, and gateways drop it at their next refresh."""
    sdk = chain.sdk()
    facility_id, active = sdk.consortium.device(device_key)
    if facility_id == 0:
        raise click.UsageError(f"device {device_key} is bound to no facility")
    if not active:
        raise click.UsageError(f"device {device_key} of facility {facility_id} is already revoked")
    sdk.consortium.revoke_device(sender.account(), device_key)
    emit(
        chain.as_json,
        {"device": device_key, "facilityId": facility_id, "revoked": True},
        f"device {device_key} of facility {facility_id} revoked",
    )
