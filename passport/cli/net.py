"""``passport net``: a CometBFT network of passport nodes on this machine."""

from __future__ import annotations

from pathlib import Path

import click

from passport.cli._common import emit, json_option, stdout

NET_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The network's directory (network.json, node0/, node1/, ...).",
)


@click.group("net")
def net() -> None:
    """A network of validators agreeing through CometBFT, on 127.0.0.1."""


@net.command("init")
@NET_DIR
@click.option("--validators", type=click.IntRange(1, 10), default=4, show_default=True)
@click.option(
    "--full-nodes",
    type=click.IntRange(0, 9),
    default=0,
    show_default=True,
    help="Non-validating member nodes (validators later by proposal).",
)
@click.option("--chain-id", type=click.IntRange(1, 2**63 - 1), default=1337, show_default=True)
@click.option(
    "--timeout-commit", default="1s", show_default=True, help="CometBFT's consensus.timeout_commit."
)
@json_option
def init_command(
    directory: Path, validators: int, full_nodes: int, chain_id: int, timeout_commit: str, as_json: bool
) -> None:
    """Keys, one CometBFT genesis, the EVM genesis and each node's config, ports on 127.0.0.1."""
    from passport.node.consensus.network import init_network

    network = init_network(directory, validators, chain_id, timeout_commit, full_nodes=full_nodes)
    data = {
        "dir": str(directory),
        "chainId": network.chain_id,
        "cometbftChainId": network.comet_chain_id,
        "nodes": [n.to_json() for n in network.nodes],
    }

    def human() -> None:
        stdout.print(
            f"network of {validators} validators in {directory} "
            f"(EVM chain {chain_id}, CometBFT chain {network.comet_chain_id})",
            highlight=False,
        )
        for n in network.nodes:
            stdout.print(
                f"  {n.name}  {n.rpc_url}  {'validator' if n.power else 'full node'} "
                f"{n.validator_address}  member {n.account}",
                highlight=False,
            )

    emit(as_json, data, human)


@net.command("start")
@NET_DIR
@click.option("--node", "only", type=int, multiple=True, help="Start only these nodes (by index).")
@json_option
def start_command(directory: Path, only: tuple[int, ...], as_json: bool) -> None:
    """Start every node (each runs its cometbft) in the background and wait until they answer."""
    from passport.node.consensus.network import Network

    network = Network.load(directory)
    indexes = list(only) or list(range(len(network.nodes)))
    pids = {network.nodes[i].name: network.start_node(i) for i in indexes}
    network.wait_ready(indexes)
    emit(
        as_json,
        {"started": pids},
        "\n".join(
            f"{name} started (pid {pid}), logs in {directory / name / 'node.log'}"
            for name, pid in pids.items()
        ),
    )


@net.command("stop")
@NET_DIR
@click.option("--node", "only", type=int, multiple=True, help="Stop only these nodes (by index).")
@json_option
def stop_command(directory: Path, only: tuple[int, ...], as_json: bool) -> None:
    """Stop the nodes (SIGTERM, then SIGKILL after 30 s)."""
    from passport.node.consensus.network import Network

    network = Network.load(directory)
    indexes = list(only) or list(range(len(network.nodes)))
    stopped = [network.nodes[i].name for i in indexes if network.stop_node(i)]
    emit(as_json, {"stopped": stopped}, f"stopped: {', '.join(stopped) or 'none was running'}")


@net.command("status")
@NET_DIR
@json_option
def status_command(directory: Path, as_json: bool) -> None:
    """Each node's pid, EVM head and hash, CometBFT height and voting power."""
    from passport.node.consensus.network import Network

    rows = Network.load(directory).status()

    def human() -> None:
        for r in rows:
            if r.get("head") is None:
                stdout.print(f"{r['name']}  down  ({r.get('error', 'no answer')})", highlight=False)
                continue
            stdout.print(
                f"{r['name']}  pid {r['pid']}  head {r['head']} {r['hash'][:18]}…  "
                f"cometbft {r.get('cometHeight')}  power {r.get('votingPower', '-')}",
                highlight=False,
            )

    emit(as_json, rows, human)
