"""``passport validator``: the consensus validators, governed by the Consortium's proposals."""

from __future__ import annotations

import base64
import binascii

import click

from passport.cli._common import ADDRESS, ChainArgs, SignerArgs, chain_options, emit, signer_options, stdout
from passport.cli.member import _proposal
from passport.exceptions import NodeError, RpcError


def _pub_key(text: str) -> bytes:
    """An ed25519 public key as CometBFT writes it (base64, priv_validator_key.json) or hex."""
    raw: bytes | None = None
    try:
        if text.startswith("0x") or len(text) == 64:
            raw = bytes.fromhex(text.removeprefix("0x"))
        else:
            raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raw = None
    if raw is None or len(raw) != 32:
        raise click.BadParameter(
            "expected an ed25519 public key: 32 bytes in base64 (pub_key.value of "
            "priv_validator_key.json) or hex"
        )
    return raw


@click.group("validator")
def validator() -> None:
    """Consensus validators: ed25519 keys bound to members, added and removed by proposal."""


@validator.command("list")
@chain_options
def list_command(chain: ChainArgs) -> None:
    """The validators the chain has: key, member, voting power (0: removed or member sanctioned)."""
    from passport.node.replica import call

    try:
        rows = call(chain.rpc_url, "passport_validators", [])
    except OSError as exc:
        raise NodeError(str(exc)) from None
    except RpcError as exc:
        raise NodeError(f"{chain.rpc_url}: {exc.message}") from None

    def human() -> None:
        for row in rows:
            key = row.get("pubKey") or "-"
            member = row.get("account") or "-"
            stdout.print(
                f"{row.get('address', '-')}  power {row['power']:>7}  member {member}  key {key}",
                highlight=False,
            )

    emit(chain.as_json, rows, human)


@validator.command("propose-add")
@click.option(
    "--pub-key", required=True, help="ed25519 public key, base64 (as in priv_validator_key.json) or hex."
)
@click.option("--account", type=ADDRESS, required=True, help="The member the validator is bound to.")
@click.option("--power", type=click.IntRange(1, 1_000_000), default=10, show_default=True)
@click.option("--no-execute", is_flag=True, help="Only propose, even when the threshold is 1.")
@chain_options
@signer_options
def propose_add(
    pub_key: str, account: str, power: int, no_execute: bool, chain: ChainArgs, sender: SignerArgs
) -> None:
    """Propose adding (or re-weighting) a validator."""
    key = _pub_key(pub_key)
    result = chain.sdk().consortium.propose_validator(sender.account(), key, account, power, not no_execute)
    _proposal(chain.as_json, result, f"validator {pub_key} of {account} at power {power}")


@validator.command("propose-remove")
@click.option("--pub-key", required=True, help="ed25519 public key, base64 or hex.")
@click.option("--account", type=ADDRESS, required=True, help="The member the validator is bound to.")
@click.option("--no-execute", is_flag=True, help="Only propose, even when the threshold is 1.")
@chain_options
@signer_options
def propose_remove(
    pub_key: str, account: str, no_execute: bool, chain: ChainArgs, sender: SignerArgs
) -> None:
    """Propose removing a validator (power 0)."""
    key = _pub_key(pub_key)
    result = chain.sdk().consortium.propose_validator(sender.account(), key, account, 0, not no_execute)
    _proposal(chain.as_json, result, f"remove validator {pub_key} of {account}")
