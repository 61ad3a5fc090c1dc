"""``passport compile``: regenerate (or check) the committed contract artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from passport.toolchain import check_artifacts, write_artifacts
from passport.toolchain.artifacts import ARTIFACTS_DIR


@click.command("compile")
@click.option("--check", is_flag=True, help="Fail if the artifacts differ from what the sources compile to.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=ARTIFACTS_DIR,
    show_default="passport/artifacts",
    help="Artifact directory.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def compile_command(check: bool, out: Path, as_json: bool) -> None:
    """Compile contracts/ into artifact JSON files (deterministic, byte for byte)."""
    if check:
        check_artifacts(out_dir=out)
        changed: list[str] = []
    else:
        changed = write_artifacts(out_dir=out)
    if as_json:
        click.echo(json.dumps({"changed": changed, "checked": check}))
    elif check:
        click.echo("artifacts are up to date")
    elif changed:
        click.echo("updated " + ", ".join(changed))
    else:
        click.echo("artifacts unchanged")
