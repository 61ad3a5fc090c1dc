"""``passport compile``: regenerate (or check) the committed contract artifacts."""

from __future__ import annotations

import json

import click

from passport.toolchain import check_artifacts, write_artifacts


@click.command("compile")
@click.option("--check", is_flag=True, help="Fail if the committed artifacts differ from the sources.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def compile_command(check: bool, as_json: bool) -> None:
    """Compile contracts/ into passport/artifacts/*.json (deterministic)."""
    if check:
        check_artifacts()
        changed: list[str] = []
    else:
        changed = write_artifacts()
    if as_json:
        click.echo(json.dumps({"changed": changed, "checked": check}))
    elif check:
        click.echo("artifacts are up to date")
    elif changed:
        click.echo("updated " + ", ".join(changed))
    else:
        click.echo("artifacts unchanged")
