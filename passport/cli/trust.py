"""``passport trust``: the consortium's trust anchor, which buyers pin to verify passports offline."""

from __future__ import annotations

from pathlib import Path

import click

from passport.cli._common import ChainArgs, chain_options, emit


@click.group("trust")
def trust() -> None:
    """The consortium's trust anchor (chain, validator set, contracts) for offline verification."""


@trust.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--name", default="Mineral Passport consortium", show_default=True, help="Shown to readers.")
@chain_options
def export(out: Path, name: str, chain: ChainArgs) -> None:
    """Write the trust anchor: chain id, genesis hash, validators and the contracts' code hashes."""
    anchor = chain.sdk().trust_anchor(name)
    anchor.save(out)
    sealed = (
        f"{len(anchor.validators)} validator(s)"
        if anchor.sealed
        else "headers not sealed: trusted as exported"
    )
    emit(chain.as_json, {"file": str(out), **anchor.model_dump(mode="json")}, f"wrote {out} ({sealed})")
