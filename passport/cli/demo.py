"""``passport demo``: the tungsten scenario, end to end."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
@click.option(
    "--validators",
    type=click.IntRange(4, 10),
    help="Run on a fresh network of this many validators agreeing through CometBFT "
    "(passport net init, in a temporary directory), and kill -9 one of them mid-way.",
)
@json_option
def demo_command(
    out: Path, rpc_url: str | None, embedded: bool, validators: int | None, as_json: bool
) -> None:
    """Two Vietnamese mines to an EU chip fab: custody, a weight discrepancy, split, APT, WF6,
    attestations (one signed offline, one revoked), a sanction after the fact, passports and
    policy checks."""
    if sum(bool(x) for x in (rpc_url, embedded, validators)) > 1:
        raise click.UsageError("--rpc-url, --embedded and --validators exclude each other")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if validators:
            network = stack.enter_context(_network(validators, as_json))
            client = Client.connect(network.node(0).rpc_url)
            chain = f"a network of {validators} CometBFT validators ({network.directory})"
            victim = len(network.nodes) - 1

            def stop_one(message: str) -> None:
                if message.startswith("Refinery splits lot A"):
                    network.kill(victim)
                    stderr.print(
                        f"[yellow]>[/] validator {victim} (member {network.node(victim).account}) killed "
                        f"(kill -9): {validators - 1} of {validators} validators go on",
                        highlight=False,
                    )

            result = _run(client, out, as_json, stop_one)
            _report(result, chain, time.monotonic() - started, as_json)
            return
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


@contextlib.contextmanager
def _network(validators: int, as_json: bool) -> Iterator[Any]:
    import shutil
    import tempfile

    from passport.node.consensus.network import init_network

    directory = Path(tempfile.mkdtemp(prefix="passport-net-"))
    network = init_network(directory / "net", validators, timeout_commit="500ms")
    try:
        if not as_json:
            stderr.print(
                f"[cyan]>[/] starting {validators} validators (CometBFT) in {directory}", highlight=False
            )
        for index in range(validators):
            network.start_node(index)
        network.wait_ready()
        yield network
    finally:
        for index in range(validators):
            network.stop_node(index, timeout=15)
        shutil.rmtree(directory, ignore_errors=True)


def _run(
    client: Client, out: Path, as_json: bool, hook: Callable[[str], None] | None = None
) -> demo.DemoResult:
    from passport import demo

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=stderr, transient=True, disable=as_json,
    ) as progress:  # fmt: skip
        task = progress.add_task("tungsten scenario", total=demo.STEPS)

        def say(message: str) -> None:
            if hook is not None:
                hook(message)
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
            {"batchId": r.batch_id, "policy": r.policy, "passed": r.ok, "reasons": r.reasons}
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
