"""``passport member``: membership changes by proposal, and member records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from passport.sdk.client import Sent
    from passport.sdk.consortium import Proposal

from passport.cli._common import ADDRESS, COUNTRY, ChainArgs, SignerArgs, chain_options, emit, signer_options
from passport.core.types import Role, role_names


def roles_of(text: str) -> Role:
    try:
        return Role(sum({Role[name.strip().upper()] for name in text.split(",") if name.strip()}))
    except KeyError as exc:
        raise click.BadParameter(
            f"unknown role {exc.args[0]!r}; roles: {', '.join(r.name or '' for r in Role)}"
        ) from exc


def _proposal(as_json: bool, result: Sent[Proposal], what: str) -> None:
    """A proposal's outcome: its id, executed or awaiting approvals, the transaction (hash, block,
    gas) and, for a facility, its new id."""
    proposal = result.value
    data: dict[str, object] = {"proposalId": proposal.proposal_id, "executed": proposal.executed}
    data |= {"txHash": result.tx_hash, "block": result.block, "gasUsed": result.gas_used}
    done = ""
    if proposal.facility_id is not None:
        data["facilityId"] = proposal.facility_id
        done = f" (facility {proposal.facility_id})"
    state = "executed" if proposal.executed else "awaits approvals"
    emit(
        as_json,
        data,
        f"proposal {proposal.proposal_id} {state}: {what}{done}\n"
        f"  tx {result.tx_hash}, block {result.block}, gas {result.gas_used:,}",
    )


@click.group("member")
def member() -> None:
    """Members: proposals to add, change roles, (de)activate, sanction; and records."""


@member.command("add")
@click.argument("address", type=ADDRESS)
@click.option(
    "--roles",
    required=True,
    help="Comma-separated: MINER,PROCESSOR,TRADER,CARRIER,CERTIFIER,REGULATOR,BUYER,ADMIN",
)
@click.option("--jurisdiction", type=COUNTRY, required=True, help="ISO 3166-1 alpha-2 country code.")
@click.option("--no-execute", is_flag=True, help="Only propose, even when the threshold is 1.")
@chain_options
@signer_options
def add(
    address: str, roles: str, jurisdiction: str, no_execute: bool, chain: ChainArgs, sender: SignerArgs
) -> None:
    """Propose adding ADDRESS as a member."""
    sdk = chain.sdk()
    result = sdk.consortium.propose_member(
        sender.account(), address, roles_of(roles), jurisdiction, not no_execute
    )
    _proposal(chain.as_json, result, f"add {address}")


@member.command("sanction")
@click.argument("address", type=ADDRESS)
@click.option("--lift", is_flag=True, help="Clear the sanction flag instead.")
@chain_options
@signer_options
def sanction(address: str, lift: bool, chain: ChainArgs, sender: SignerArgs) -> None:
    """Propose raising (or lifting) ADDRESS's sanction flag."""
    sdk = chain.sdk()
    result = sdk.consortium.propose_member_sanction(sender.account(), address, not lift)
    _proposal(chain.as_json, result, f"{'lift sanction on' if lift else 'sanction'} {address}")


@member.command("roles")
@click.argument("address", type=ADDRESS)
@click.option("--roles", required=True, help="The new comma-separated role list (replaces the old one).")
@click.option("--no-execute", is_flag=True, help="Only propose, even when the threshold is 1.")
@chain_options
@signer_options
def roles(address: str, roles: str, no_execute: bool, chain: ChainArgs, sender: SignerArgs) -> None:
    """Propose replacing ADDRESS's roles."""
    result = chain.sdk().consortium.propose_roles(sender.account(), address, roles_of(roles), not no_execute)
    _proposal(chain.as_json, result, f"set roles of {address} to {roles.upper()}")


@member.command("accredit")
@click.argument("certifier", type=ADDRESS)
@click.option("--schema-id", type=int, required=True, help="Attestation schema the certifier may attest.")
@click.option(
    "--days", type=click.IntRange(min=1), default=365, show_default=True, help="Accreditation length."
)
@click.option("--revoke", is_flag=True, help="End the running accreditation now instead.")
@click.option("--no-execute", is_flag=True, help="Only propose, even when the threshold is 1.")
@chain_options
@signer_options
def accredit(
    certifier: str,
    schema_id: int,
    days: int,
    revoke: bool,
    no_execute: bool,
    chain: ChainArgs,
    sender: SignerArgs,
) -> None:
    """Propose accrediting CERTIFIER for a schema (or ending its accreditation)."""
    sdk = chain.sdk()
    if revoke:
        result = sdk.consortium.propose_revoke_accreditation(
            sender.account(), certifier, schema_id, not no_execute
        )
        what = f"end accreditation of {certifier} for schema {schema_id}"
    else:
        _n, _h, now = sdk.client.head()
        until = now + days * 86_400
        result = sdk.consortium.propose_accreditation(
            sender.account(), certifier, schema_id, until, not no_execute
        )
        what = f"accredit {certifier} for schema {schema_id} for {days} days"
    _proposal(chain.as_json, result, what)


@member.command("approve")
@click.argument("proposal_id", type=int)
@chain_options
@signer_options
def approve(proposal_id: int, chain: ChainArgs, sender: SignerArgs) -> None:
    """Approve proposal PROPOSAL_ID."""
    chain.sdk().consortium.approve(sender.account(), proposal_id)
    emit(chain.as_json, {"proposalId": proposal_id, "approved": True}, f"approved proposal {proposal_id}")


@member.command("execute")
@click.argument("proposal_id", type=int)
@chain_options
@signer_options
def execute(proposal_id: int, chain: ChainArgs, sender: SignerArgs) -> None:
    """Execute proposal PROPOSAL_ID once enough admins approved it."""
    chain.sdk().consortium.execute(sender.account(), proposal_id)
    emit(chain.as_json, {"proposalId": proposal_id, "executed": True}, f"executed proposal {proposal_id}")


@member.command("show")
@click.argument("address", type=ADDRESS)
@chain_options
def show(address: str, chain: ChainArgs) -> None:
    """A member's record."""
    m = chain.sdk().consortium.member(address)
    if not m.joined_at:
        raise click.ClickException(f"{address} is not a member")
    status = "sanctioned" if m.sanctioned else ("active" if m.active else "inactive")
    emit(chain.as_json, m, f"{m.address}  {','.join(role_names(m.roles))}  {m.jurisdiction}  {status}")
