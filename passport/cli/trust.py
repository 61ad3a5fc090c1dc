"""``passport trust``: the consortium's trust anchor, which buyers pin to verify passports offline."""

from __future__ import annotations

from pathlib import Path

import click
from eth_utils import is_address

from passport.cli._common import ChainArgs, chain_options, duration, emit
from passport.evidence.trust import CometTrustAnchor


@click.group("trust")
def trust() -> None:
    """The consortium's trust anchor (chain, validator set, contracts) for offline verification."""


@trust.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--name", default="Mineral Passport consortium", show_default=True, help="Shown to readers.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="ACCOUNT=NAME",
    help="A CometBFT network: the name readers see for the member whose account a validator is bound "
    "to (repeat per member).",
)
@click.option(
    "--trusting-period",
    default="365d",
    show_default=True,
    help="A CometBFT network: how long the anchor's validator set may vouch for later ones "
    "(e.g. 90d, 2160h; CometBFT's light-client trusting period).",
)
@chain_options
def export(out: Path, name: str, labels: tuple[str, ...], trusting_period: str, chain: ChainArgs) -> None:
    """Write the trust anchor: chain id, genesis hash, the contracts' code hashes, and who proves
    blocks (a CometBFT network's validator set at its latest height, or the sealers)."""
    named = {}
    for label in labels:
        account, sep, text = label.partition("=")
        if not sep or not is_address(account) or not text.strip():
            raise click.BadParameter(f"{label!r}: expected ACCOUNT=NAME (a 0x address)", param_hint="--label")
        named[account] = text.strip()
    period = duration(trusting_period, "--trusting-period")  # refused before anything is sent
    anchor = chain.sdk().trust_anchor(name, named, period)
    anchor.save(out)
    if isinstance(anchor, CometTrustAnchor):
        c = anchor.cometbft
        sealed = (
            f"CometBFT {c.chain_id} at height {c.height}: {len(c.validators)} validator(s), "
            f"trusting period {trusting_period}"
        )
    elif anchor.sealed:
        sealed = f"{len(anchor.validators)} validator(s)"
    else:
        sealed = "headers not sealed: trusted as exported"
    emit(chain.as_json, {"file": str(out), **anchor.model_dump(mode="json")}, f"wrote {out} ({sealed})")
