"""A CometBFT network of passport nodes on this machine: ``passport net init|start|stop|status``.

``init`` writes, for each validator, a node data dir (``node<i>/``: the EVM genesis, ``node.toml``)
with its CometBFT home inside (``node<i>/cometbft/``: keys from ``cometbft init``, one shared
CometBFT genesis, ``config.toml`` with 127.0.0.1 ports and every other node as a persistent
peer), and ``network.json``, the map of the network. ``start`` runs each node as a background
``passport node start`` (which runs its ``cometbft``), ``stop`` stops them by pid.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from passport._utils.dev import dev_accounts
from passport.exceptions import NodeError, RpcError
from passport.node.config import CONFIG_FILE, GENESIS_FILE, NodeConfig, dev_genesis
from passport.node.consensus.comet import comet_rpc, cometbft_binary
from passport.node.consensus.cometbft import RELAY_BATCH
from passport.node.replica import call

NETWORK_FILE = "network.json"
# nodes this process started, kept so they are reaped (pid -> process)
_children: dict[int, subprocess.Popen[bytes]] = {}
DEFAULT_POWER = 10
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class NetNode:
    name: str
    data_dir: Path
    rpc_url: str
    comet_rpc: str
    p2p_port: int
    abci_port: int
    node_id: str
    validator_address: str
    account: str
    power: int
    pub_key: str = ""  # ed25519, base64 (as in priv_validator_key.json)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dataDir": self.data_dir.name,
            "rpcUrl": self.rpc_url,
            "cometRpc": self.comet_rpc,
            "p2pPort": self.p2p_port,
            "abciPort": self.abci_port,
            "nodeId": self.node_id,
            "validatorAddress": self.validator_address,
            "account": self.account,
            "power": self.power,
            "pubKey": self.pub_key,
        }

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "node.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "node.log"


@dataclass(frozen=True)
class Network:
    directory: Path
    chain_id: int
    comet_chain_id: str
    nodes: tuple[NetNode, ...]

    @classmethod
    def load(cls, directory: Path) -> Network:
        path = directory / NETWORK_FILE
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise NodeError(
                f"{directory} holds no network ({exc.strerror}): run `passport net init` first"
            ) from None
        except json.JSONDecodeError as exc:
            raise NodeError(f"{path} is not valid JSON: {exc}") from None
        try:
            nodes = tuple(
                NetNode(
                    name=n["name"],
                    data_dir=directory / n["dataDir"],
                    rpc_url=n["rpcUrl"],
                    comet_rpc=n["cometRpc"],
                    p2p_port=int(n["p2pPort"]),
                    abci_port=int(n["abciPort"]),
                    node_id=n["nodeId"],
                    validator_address=n["validatorAddress"],
                    account=n["account"],
                    power=int(n["power"]),
                    pub_key=str(n.get("pubKey", "")),
                )
                for n in data["nodes"]
            )
            return cls(directory, int(data["chainId"]), str(data["cometbftChainId"]), nodes)
        except (KeyError, TypeError, ValueError) as exc:
            raise NodeError(f"{path} is malformed ({exc})") from None

    def node(self, index: int) -> NetNode:
        return self.nodes[index]

    # ---------------------------------------------------------------- processes

    def start_node(self, index: int, log_level: str = "info") -> int:
        """Start node ``index`` in the background (its own session); returns its pid."""
        node = self.nodes[index]
        pid = running_pid(node)
        if pid is not None:
            return pid
        log = open(node.log_file, "ab")  # noqa: SIM115 - handed to the child
        try:
            process = subprocess.Popen(
                [*_passport(), "node", "start", "--data-dir", str(node.data_dir), "--log-level", log_level],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        node.pid_file.write_text(str(process.pid))
        _children[process.pid] = process
        return process.pid

    def wait_ready(self, indexes: list[int] | None = None, timeout: float = START_TIMEOUT) -> None:
        """Wait until each node answers JSON-RPC.

        Raises:
            NodeError: one did not within ``timeout`` (its log's last lines say why).
        """
        deadline = time.monotonic() + timeout
        for index in range(len(self.nodes)) if indexes is None else indexes:
            node = self.nodes[index]
            while True:
                try:
                    call(node.rpc_url, "eth_blockNumber", [], timeout=2)
                    break
                except (OSError, RpcError):
                    pid = running_pid(node)
                    if pid is None or time.monotonic() > deadline:
                        tail = _tail(node.log_file)
                        raise NodeError(f"{node.name} did not start: {tail}") from None
                    time.sleep(0.2)

    @contextlib.contextmanager
    def running(self) -> Iterator[Network]:
        """Every node started and answering JSON-RPC inside; every node stopped (by pid) after."""
        try:
            for index in range(len(self.nodes)):
                self.start_node(index)
            self.wait_ready()
            yield self
        finally:
            for index in range(len(self.nodes)):
                self.stop_node(index, timeout=15)

    def kill(self, index: int) -> bool:
        """kill -9 node ``index`` (its cometbft dies with it); False if it was not running."""
        node = self.nodes[index]
        pid = running_pid(node)
        if pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        node.pid_file.unlink(missing_ok=True)
        return True

    def stop_node(self, index: int, timeout: float = 30.0) -> bool:
        """SIGTERM node ``index`` and wait for it to exit (SIGKILL after ``timeout``)."""
        node = self.nodes[index]
        pid = running_pid(node)
        if pid is None:
            node.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGCONT)  # a frozen (SIGSTOP) node must run to shut down
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        node.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> list[dict[str, Any]]:
        out = []
        for node in self.nodes:
            entry: dict[str, Any] = {
                "name": node.name,
                "pid": running_pid(node),
                "rpcUrl": node.rpc_url,
                "account": node.account,
                "validatorAddress": node.validator_address,
            }
            try:
                number = int(call(node.rpc_url, "eth_blockNumber", [], timeout=3), 16)
                block = call(node.rpc_url, "eth_getBlockByNumber", [hex(number), False], timeout=3)
                entry.update(head=number, hash=block["hash"])
            except (OSError, RpcError) as exc:
                entry.update(head=None, error=str(exc))
            try:
                status = comet_rpc(node.comet_rpc, "status", {}, timeout=3)
                info = status["validator_info"]
                entry.update(
                    cometHeight=int(status["sync_info"]["latest_block_height"]),
                    catchingUp=bool(status["sync_info"]["catching_up"]),
                    votingPower=int(info["voting_power"]),
                )
            except (OSError, RpcError, KeyError, ValueError):
                entry.update(cometHeight=None)
            out.append(entry)
        return out


def running_pid(node: NetNode) -> int | None:
    try:
        pid = int(node.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    child = _children.get(pid)
    if child is not None:  # our own child: reap it
        if child.poll() is None:
            return True
        del _children[pid]
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(text[-lines:]) or "no output"


def _passport() -> list[str]:
    script = Path(sys.executable).with_name("passport")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from passport.cli import main; main()"]


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def init_network(
    directory: Path,
    validators: int = 4,
    chain_id: int = 1337,
    timeout_commit: str = "1s",
    power: int = DEFAULT_POWER,
    full_nodes: int = 0,
    powers: Sequence[int] | None = None,
) -> Network:
    """Write a network of ``validators`` validator nodes and ``full_nodes`` non-validating
    member nodes on 127.0.0.1 into ``directory``.

    The EVM genesis is the dev chain's: the standard test mnemonic's ten accounts funded and
    allowlisted, node ``i`` bound to account ``i`` (a full node's key can be made a validator
    later by proposal: ``passport validator propose-add``). ``powers``: each validator's voting power
    (default: ``power`` each).

    Raises:
        NodeError: the directory already holds a network, or ``cometbft init`` failed.
    """
    weights = list(powers) if powers is not None else [power] * validators
    if len(weights) != validators or any(w <= 0 for w in weights):
        raise NodeError("one positive voting power per validator")
    if not validators >= 1 or validators + full_nodes > 10:
        raise NodeError(
            "--validators (at least 1) and --full-nodes: 10 nodes at most (one test account each)"
        )
    total = validators + full_nodes
    if (directory / NETWORK_FILE).exists():
        raise NodeError(f"{directory} already holds a network; refusing to overwrite it")
    binary = cometbft_binary()
    directory.mkdir(parents=True, exist_ok=True)
    accounts = [str(a.address) for a in dev_accounts()]
    ports = free_ports(4 * total)
    keys = []
    for index in range(total):
        home = directory / f"node{index}" / "cometbft"
        subprocess.run(
            [str(binary), "init", "--home", str(home)], check=True, capture_output=True, timeout=60
        )
        key = json.loads((home / "config" / "priv_validator_key.json").read_text())
        node_id = subprocess.run(
            [str(binary), "show-node-id", "--home", str(home)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        keys.append((key["address"], key["pub_key"]["value"], node_id))
    consensus_accounts = {address.lower(): accounts[i] for i, (address, _, _) in enumerate(keys)}
    base = dev_genesis(accounts, accounts[0], chain_id)
    genesis = type(base)(
        **{
            **base.__dict__,
            "validators": tuple(accounts[:validators]),
            "consensus_accounts": consensus_accounts,
        }
    )
    from passport.node.chain import genesis_hash

    comet_chain_id = f"passport-{chain_id}"
    comet_genesis = {
        "genesis_time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "chain_id": comet_chain_id,
        "initial_height": "1",
        "consensus_params": json.loads(
            (directory / "node0" / "cometbft" / "config" / "genesis.json").read_text()
        )["consensus_params"],
        "validators": [
            {
                "address": address,
                "pub_key": {"type": "tendermint/PubKeyEd25519", "value": pub_key},
                "power": str(weights[index]),
                "name": f"validator-{index}",
            }
            for index, (address, pub_key, _) in enumerate(keys[:validators])
        ],
        "app_hash": genesis_hash(genesis).hex().upper(),
    }
    nodes = []
    for index, (address, pub_key, node_id) in enumerate(keys):
        eth_port, abci_port, rpc_port, p2p_port = ports[4 * index : 4 * index + 4]
        data_dir = directory / f"node{index}"
        home = data_dir / "cometbft"
        nodes.append(
            NetNode(
                name=f"node{index}",
                data_dir=data_dir,
                rpc_url=f"http://127.0.0.1:{eth_port}",
                comet_rpc=f"http://127.0.0.1:{rpc_port}",
                p2p_port=p2p_port,
                abci_port=abci_port,
                node_id=node_id,
                validator_address=address,
                account=accounts[index],
                power=weights[index] if index < validators else 0,
                pub_key=pub_key,
            )
        )
        (home / "config" / "genesis.json").write_text(json.dumps(comet_genesis, indent=2) + "\n")
        genesis.write(data_dir / GENESIS_FILE)
        config = NodeConfig()
        config.rpc.port = eth_port
        config.consensus.engine = "cometbft"
        config.write(data_dir / CONFIG_FILE)
    for index, node in enumerate(nodes):
        peers = ",".join(f"{n.node_id}@127.0.0.1:{n.p2p_port}" for n in nodes if n is not node)
        rpc_port = int(node.comet_rpc.rsplit(":", 1)[1])
        write_comet_config(
            node.data_dir / "cometbft",
            moniker=f"validator-{index}" if index < validators else f"member-{index}",
            abci_port=node.abci_port,
            rpc_port=rpc_port,
            p2p_port=node.p2p_port,
            peers=peers,
            timeout_commit=timeout_commit,
        )
    network = Network(directory, chain_id, comet_chain_id, tuple(nodes))
    data = {
        "chainId": chain_id,
        "cometbftChainId": comet_chain_id,
        "nodes": [n.to_json() for n in nodes],
    }
    (directory / NETWORK_FILE).write_text(json.dumps(data, indent=2) + "\n")
    return network


def write_comet_config(
    home: Path,
    *,
    moniker: str,
    abci_port: int,
    rpc_port: int,
    p2p_port: int,
    peers: str,
    timeout_commit: str,
    host: str = "127.0.0.1",
) -> None:
    """Set what a passport node needs in ``config.toml`` (the rest keeps CometBFT's defaults)."""
    path = home / "config" / "config.toml"
    config = tomllib.loads(path.read_text())
    config.update(moniker=moniker, proxy_app=f"tcp://127.0.0.1:{abci_port}", abci="socket", log_level="info")
    config["rpc"]["laddr"] = f"tcp://127.0.0.1:{rpc_port}"
    # the node hands acknowledged transactions over in JSON-RPC batches (CometBFT's default: 10)
    config["rpc"]["max_request_batch_size"] = RELAY_BATCH
    p2p = config["p2p"]
    p2p.update(
        laddr=f"tcp://{host}:{p2p_port}",
        persistent_peers=peers,
        addr_book_strict=host != "127.0.0.1",
        allow_duplicate_ip=host == "127.0.0.1",
        pex=False,
    )
    consensus = config["consensus"]
    consensus.update(timeout_commit=timeout_commit, create_empty_blocks=True)
    config["tx_index"]["indexer"] = "null"
    config["instrumentation"]["prometheus"] = False
    path.write_text(tomli_w.dumps(config))


def encode_pub_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
