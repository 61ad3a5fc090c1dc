"""``passport deploy``: deploy the contracts and bootstrap the consortium."""

from __future__ import annotations

import json
from pathlib import Path

import click

from passport.cli._common import ChainArgs, SignerArgs, chain_options, connect, emit, signer_options
from passport.core.types import Role
from passport.exceptions import PassportFileInvalid
from passport.sdk import Founder, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts


def _founders(path: Path | None, dev: bool) -> list[Founder]:
    if dev:
        return [Founder(dev_accounts(1)[0].address, Role.ADMIN, "VN")]
    if path is None:
        raise click.UsageError("give --founders FILE (or --dev for a single development admin)")
    try:
        data = json.loads(path.read_text())
        return [
            Founder(
                str(f["address"]),
                Role(sum(Role[r.upper()] for r in f["roles"])),
                str(f["jurisdiction"]),
            )
            for f in data
        ]
    except FileNotFoundError as exc:
        raise PassportFileInvalid(str(path), "no such file") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise PassportFileInvalid(
            str(path), f'expected [{{"address", "roles": ["ADMIN", ...], "jurisdiction": "VN"}}]: {exc!s}'
        ) from exc


@click.command("deploy")
@chain_options
@signer_options
@click.option(
    "--founders", type=click.Path(dir_okay=False, path_type=Path), help="JSON list of founding members."
)
@click.option(
    "--dev", "dev_founders", is_flag=True, help=f"Found with the {DEV_ROLES[0]!r} dev account as sole admin."
)
@click.option(
    "--threshold",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Admin approvals per change.",
)
@click.option("--mass-tolerance-bps", default=50, show_default=True, type=click.IntRange(0, 10_000))
@click.option("--assay-tolerance-bps", default=100, show_default=True, type=click.IntRange(0, 10_000))
@click.option("--force", is_flag=True, help="Overwrite an existing deployment record.")
def deploy_command(
    chain: ChainArgs,
    sender: SignerArgs,
    founders: Path | None,
    dev_founders: bool,
    threshold: int,
    mass_tolerance_bps: int,
    assay_tolerance_bps: int,
    force: bool,
) -> None:
    """Deploy Consortium, MineralPassport and AttestationRegistry; record them under DEPLOYMENTS/NETWORK."""
    members = _founders(founders, dev_founders)
    sdk = Sdk.deploy(
        connect(chain.rpc_url),
        sender.account(),
        members,
        threshold=threshold,
        mass_tolerance_bps=mass_tolerance_bps,
        assay_tolerance_bps=assay_tolerance_bps,
        network=chain.network,
        directory=chain.deployments_dir,
        force=force,
    )
    data = {name: rec.address for name, rec in sdk.contracts.deployment.records.items()}
    lines = "\n".join(f"{name:20} {address}" for name, address in data.items())
    emit(
        chain.as_json,
        {"network": chain.network, "chainId": sdk.client.chain_id, "contracts": data},
        f"deployed on chain {sdk.client.chain_id} ({chain.network}):\n{lines}",
    )
