"""``passport demo``: the tungsten scenario, end to end."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from passport.cli._common import emit, json_option, stderr, stdout
from passport.cli.render import lineage_tree, policy_table
from passport.sdk import Client
from passport.sdk.accounts import dev_accounts


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/demo"),
    show_default=True,
    help="Where passports, the signed attestation and deployment records go.",
)
@click.option(
    "--rpc-url",
    envvar="PASSPORT_RPC_URL",
    default=None,
    help="Run on this JSON-RPC chain (dev accounts must be funded) instead of the embedded one.",
)
@json_option
def demo_command(out: Path, rpc_url: str | None, as_json: bool) -> None:
    """Two Vietnamese mines to an EU chip fab: custody, a weight discrepancy, split, APT, WF6,
    attestations (one signed offline, one revoked), a sanction after the fact, passports and
    policy checks."""
    from passport import demo

    started = time.monotonic()
    client = Client.connect(rpc_url) if rpc_url else Client.embedded(fund=[a.address for a in dev_accounts()])
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=stderr, transient=True, disable=as_json,
    ) as progress:  # fmt: skip
        task = progress.add_task("tungsten scenario", total=demo.STEPS)

        def say(message: str) -> None:
            if not message.startswith("  "):
                progress.advance(task)
            if not as_json:
                progress.console.print(f"[cyan]>[/] {message}", highlight=False)

        result = demo.run(client, out, say)
    elapsed = time.monotonic() - started
    data = {
        "chain": "embedded" if rpc_url is None else rpc_url,
        "batches": result.batches,
        "passports": {k: str(v) for k, v in result.passports.items()},
        "signedAttestation": str(result.signed_attestation),
        "policies": [
            {"batchId": r.batch_id, "policy": r.policy, "passed": r.passed, "reasons": r.reasons}
            for r in result.policy_results
        ],
        "wf6PassportVerified": result.verified,
        "seconds": round(elapsed, 2),
    }

    def human() -> None:
        stdout.print(lineage_tree(result.documents["wf6"]))
        stdout.print(policy_table(result.policy_results))
        for label, path in result.passports.items():
            stdout.print(f"passport ({label}): {path}")
        stdout.print(f"signed attestation: {result.signed_attestation}")
        stdout.print(f"WF6 passport re-verified against the chain: {'yes' if result.verified else 'NO'}")
        stdout.print(f"[dim]{elapsed:.1f} s on the {'embedded chain' if rpc_url is None else rpc_url}[/]")

    emit(as_json, data, human)
