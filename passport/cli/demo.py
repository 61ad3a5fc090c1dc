"""``passport demo``: the tungsten scenario, end to end."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from passport import demo
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
    help="Run on this JSON-RPC chain (dev accounts must be funded) instead of a fresh dev node.",
)
@click.option(
    "--embedded",
    is_flag=True,
    help="Run on the in-process eth-tester chain instead of a fresh dev node.",
)
@json_option
def demo_command(out: Path, rpc_url: str | None, embedded: bool, as_json: bool) -> None:
    """Two Vietnamese mines to an EU chip fab: custody, a weight discrepancy, split, APT, WF6,
    attestations (one signed offline, one revoked), a sanction after the fact, passports and
    policy checks."""
    if rpc_url and embedded:
        raise click.UsageError("--rpc-url and --embedded exclude each other")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if embedded:
            client, chain = Client.embedded(fund=[a.address for a in dev_accounts()]), "the embedded chain"
        elif rpc_url:
            client, chain = Client.connect(rpc_url), rpc_url
        else:
            from passport.node.service import Node

            dev_node = stack.enter_context(Node.dev())
            client, chain = Client.connect(dev_node.url), "a fresh dev node (passport node start --dev)"
        result = _run(client, out, as_json)
    elapsed = time.monotonic() - started
    _report(result, chain, elapsed, as_json)


def _run(client: Client, out: Path, as_json: bool) -> demo.DemoResult:
    from passport import demo

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

        return demo.run(client, out, say)


def _report(result: demo.DemoResult, chain: str, elapsed: float, as_json: bool) -> None:
    data = {
        "chain": chain,
        "batches": result.batches,
        "passports": {k: str(v) for k, v in result.passports.items()},
        "signedAttestation": str(result.signed_attestation),
        "policies": [
            {"batchId": r.batch_id, "policy": r.policy, "passed": r.passed, "reasons": r.reasons}
            for r in result.policy_results
        ],
        "wf6PassportVerified": result.verified,
        "wf6PassportVerifiedOffline": result.verified_offline,
        "trustAnchor": str(result.trust_anchor) if result.trust_anchor else None,
        "versionHash": result.version_hash,
        "seconds": round(elapsed, 2),
    }

    def human() -> None:
        stdout.print(lineage_tree(result.documents.get("wf6-buyer", result.documents["wf6"])))
        stdout.print(policy_table(result.policy_results))
        for label, path in result.passports.items():
            stdout.print(f"passport ({label}): {path}")
        stdout.print(f"signed attestation: {result.signed_attestation}")
        stdout.print(f"WF6 passport re-verified against the chain: {'yes' if result.verified else 'NO'}")
        if result.verified_offline is not None:
            stdout.print(
                f"WF6 passport verified offline from its evidence against {result.trust_anchor}: "
                + ("yes" if result.verified_offline else "NO")
            )
        if result.version_hash is not None:
            stdout.print(f"WF6 passport version (SHA-256 of RFC 8785 claims): {result.version_hash}")
        stdout.print(f"[dim]{elapsed:.1f} s on {chain}[/]")

    emit(as_json, data, human)
