"""``passport node``: initialise, run and inspect a consortium node."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from passport.cli._common import emit, json_option, signer, stderr, stdout
from passport.exceptions import KeystoreError, NodeError, RpcError
from passport.sdk.accounts import PASSWORD_ENV, create_keystore

DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the chain, genesis.json, node.toml and the validator keystore live.",
)


@click.group("node")
def node() -> None:
    """Run a permissioned, persistent, verifiable node (py-evm, Cancun rules)."""


@node.command("init")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="New data directory."
)
@click.option("--chain-id", type=click.IntRange(1, 2**63 - 1), default=2026, show_default=True)
@click.option(
    "--validator",
    "validator_keystore",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="This node's sealing key (a keystore); a new one is created when omitted.",
)
@click.option(
    "--alloc",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help='JSON {"0xaddress": {"balance": "0x..."}}: funded and allowlisted at genesis.',
)
@click.option(
    "--consortium",
    help="Consortium contract address (default: the first contract the first alloc account creates).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8545, show_default=True)
@json_option
def init_command(
    data_dir: Path,
    chain_id: int,
    validator_keystore: Path | None,
    alloc: Path | None,
    consortium: str | None,
    host: str,
    port: int,
    as_json: bool,
) -> None:
    """Write genesis.json, node.toml and (unless given) a new validator keystore."""
    from passport.node.config import (
        CONFIG_FILE,
        GENESIS_FILE,
        KEYSTORE_FILE,
        Genesis,
        NodeConfig,
        consortium_address,
    )

    if (data_dir / GENESIS_FILE).exists():
        raise NodeError(f"{data_dir} already holds a genesis; refusing to overwrite a chain")
    allocations: dict[str, Any] = {}
    if alloc is not None:
        try:
            allocations = json.loads(alloc.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise NodeError(f"cannot read --alloc {alloc}: {exc}") from None
        if not isinstance(allocations, dict):
            raise NodeError(f"--alloc {alloc}: expected a JSON object of address to account")
    keystore_target = data_dir / KEYSTORE_FILE
    if validator_keystore is not None:
        validator = signer(validator_keystore, None)
    else:
        password = _new_password()
        validator = create_keystore(data_dir / ".validator.json.new", password)
    draft = {
        "chainId": chain_id,
        "timestamp": 0,
        "validators": [validator.address],
        "allowlist": [validator.address, *allocations],
        "alloc": allocations,
        "consortium": consortium or (consortium_address(next(iter(allocations))) if allocations else None),
    }
    genesis = Genesis.from_json(draft, "--alloc/--consortium")
    genesis = Genesis(**{**genesis.__dict__, "timestamp": _now()})
    config = NodeConfig()
    config.rpc.host, config.rpc.port = host, port
    data_dir.mkdir(parents=True, exist_ok=True)
    if validator_keystore is not None:
        shutil.copyfile(validator_keystore, keystore_target)
    else:
        os.replace(data_dir / ".validator.json.new", keystore_target)
    config.write(data_dir / CONFIG_FILE)
    genesis.write(data_dir / GENESIS_FILE)
    data = {
        "dataDir": str(data_dir),
        "chainId": chain_id,
        "validator": validator.address,
        "consortium": genesis.consortium,
        "allowlist": list(genesis.allowlist),
    }
    emit(as_json, data, f"initialised {data_dir}: chain {chain_id}, validator {validator.address}")


@node.command("token")
@DATA_DIR
@click.option("--scope", type=click.Choice(["read", "write", "admin"]), required=True)
def token_command(data_dir: Path | None, scope: str) -> None:
    """Create a bearer token for the JSON-RPC server; only its hash is stored in node.toml."""
    from passport.node.config import CONFIG_FILE, NodeConfig, hash_token

    if data_dir is None:
        raise click.UsageError("--data-dir is required")
    path = data_dir / CONFIG_FILE
    config = NodeConfig.read(path)
    token = secrets.token_urlsafe(32)
    config.rpc.tokens.append({"sha256": hash_token(token), "scope": scope})
    config.write(path)
    click.echo(token)


@node.command("start")
@DATA_DIR
@click.option("--dev", is_flag=True, help="Single-validator chain funding the test mnemonic's ten accounts.")
@click.option("--replica-of", metavar="URL", help="Follow and verify this node instead of sealing.")
@click.option(
    "--consensus",
    type=click.Choice(["single", "cometbft"]),
    help="single: seal with the validator key (or --replica-of); cometbft: run as the ABCI "
    "application of the CometBFT node in --home (default from node.toml).",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="The CometBFT home (default: node.toml's consensus.cometbft_home inside --data-dir).",
)
@click.option("--host", help="Listen address (default from node.toml, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Listen port (default from node.toml, 8545).")
@click.option("--block-interval", type=click.FloatRange(0.05, 3600), help="Seconds between blocks.")
@click.option(
    "--seal-on-transaction/--no-seal-on-transaction", default=None, help="Seal as soon as transactions wait."
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="info logs one line per sealed or imported block.",
)
def start_command(
    data_dir: Path | None,
    dev: bool,
    replica_of: str | None,
    consensus: str | None,
    home: Path | None,
    host: str | None,
    port: int | None,
    block_interval: float | None,
    seal_on_transaction: bool | None,
    log_level: str,
) -> None:
    """Serve JSON-RPC until SIGINT or SIGTERM, then shut down cleanly."""
    import logging

    from passport.node.service import Node

    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # third-party libraries keep their own (quieter) level
    for noisy in ("eth", "trie", "urllib3", "web3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))

    if dev and replica_of:
        raise click.UsageError("--dev and --replica-of exclude each other")
    if (dev or replica_of) and (consensus == "cometbft" or home is not None):
        raise click.UsageError("--consensus cometbft / --home exclude --dev and --replica-of")
    sealer: dict[str, Any] = {}
    if block_interval is not None:
        sealer["block_interval"] = block_interval
    if seal_on_transaction is not None:
        sealer["seal_on_transaction"] = seal_on_transaction
    if dev:
        node_ = Node.dev(data_dir, 8545 if port is None else port, **sealer)
    elif data_dir is None:
        raise click.UsageError("--data-dir is required (or use --dev)")
    else:
        node_ = _open(data_dir, replica_of, sealer, consensus, home)
    if host is not None:
        node_.config.rpc.host = host
    if port is not None:
        node_.config.rpc.port = port
    _serve(node_, dev)


def _open(
    data_dir: Path, upstream: str | None, sealer: dict[str, Any], consensus: str | None, home: Path | None
) -> Any:
    from passport.node.config import CONFIG_FILE, GENESIS_FILE, Genesis, NodeConfig
    from passport.node.replica import fetch_genesis
    from passport.node.service import Node

    genesis_path = data_dir / GENESIS_FILE
    if not genesis_path.exists():
        if upstream is None:
            raise NodeError(
                f"{data_dir} is not initialised: run `passport node init --data-dir {data_dir}` first"
            )
        fetch_genesis(upstream, data_dir)
    genesis = Genesis.read(genesis_path)
    config_path = data_dir / CONFIG_FILE
    config = NodeConfig.read(config_path) if config_path.exists() else NodeConfig()
    for key, value in sealer.items():
        setattr(config.sealer, key, value)
    if upstream is not None:
        return Node(data_dir, genesis, config, upstream=upstream)
    if (consensus or config.consensus.engine) == "cometbft":
        return Node(
            data_dir, genesis, config, cometbft_home=home or data_dir / config.consensus.cometbft_home
        )
    from eth_keys.datatypes import PrivateKey

    keystore = data_dir / config.sealer.validator_keystore
    if not keystore.exists():
        raise NodeError(
            f"no validator keystore at {keystore}; a node without a key can only run --replica-of URL"
        )
    account = signer(keystore, None)
    return Node(data_dir, genesis, config, validator=PrivateKey(bytes(account.key)))


def _serve(node_: Any, dev: bool) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    node_.start()
    node_.calls.warm_up()  # eth_call workers start now, not on the first call
    info = node_.info()
    stderr.print(
        f"[green]passport node[/] {info['role']} of chain {info['chainId']} at [bold]{node_.url}[/] "
        f"(head {info['head']['number']}, data {'temporary' if node_.temporary else node_.data_dir})",
        highlight=False,
    )
    if dev:
        from passport.sdk.accounts import DEV_ROLES, dev_accounts

        for role, account in zip(DEV_ROLES, dev_accounts(), strict=True):
            stderr.print(f"  {account.address}  {role}", highlight=False)
        stderr.print(
            "  mnemonic: test test test test test test test test test test test junk", highlight=False
        )
    sys.stderr.flush()
    try:
        stop.wait()
    finally:
        stderr.print("shutting down", highlight=False)
        node_.stop()
    halted = getattr(node_.consensus, "halted", None)
    if halted:
        raise NodeError(halted)


@node.command("status")
@click.option("--rpc-url", envvar="PASSPORT_RPC_URL", default="http://127.0.0.1:8545", show_default=True)
@click.option("--token", envvar="PASSPORT_RPC_TOKEN", help="Bearer token (env PASSPORT_RPC_TOKEN).")
@json_option
def status_command(rpc_url: str, token: str | None, as_json: bool) -> None:
    """Head, sealer, pending transactions and replicas' lag."""
    from passport.node.replica import call

    try:
        info = call(rpc_url, "passport_nodeInfo", [], token=token)
    except OSError as exc:
        raise NodeError(str(exc)) from None
    except RpcError as exc:
        raise NodeError(f"{rpc_url}: {exc.message}") from None

    def human() -> None:
        head = info["head"]
        stdout.print(f"{info['role']} of chain {info['chainId']} at {rpc_url}", highlight=False)
        stdout.print(f"  head      {head['number']} {head['hash']}", highlight=False)
        comet = info.get("cometbft")
        if comet:
            stdout.print(
                f"  cometbft  {comet['version']} chain {comet['chainId']}, validator "
                f"{comet['validatorAddress'] or '-'} (power {comet['votingPower']})",
                highlight=False,
            )
        else:
            stdout.print(
                f"  sealer    {info['sealer'] or '-'} (validators: {', '.join(info['validators'])})",
                highlight=False,
            )
        stdout.print(f"  pending   {info['pending']}", highlight=False)
        for replica in info["replicas"]:
            stdout.print(
                f"  replica   {replica['id']} at {replica['head']}, lag {replica['lag']}", highlight=False
            )
        if info["upstream"]:
            stdout.print(f"  following {info['upstream']} (its head {info['upstreamHead']})", highlight=False)
        if info["diverged"]:
            d = info["diverged"]
            stdout.print(
                f"  [red]DIVERGED[/] at block {d['block']} on {d['field']}: {d['detail']}", highlight=False
            )

    emit(as_json, info, human)


def _new_password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise KeystoreError(
                "validator keystore", f"no password: set ${PASSWORD_ENV} or run in a terminal"
            )
        password = click.prompt(
            "Password for the new validator keystore", hide_input=True, confirmation_prompt=True, err=True
        )
    return password


def _now() -> int:
    import time

    return int(time.time())
