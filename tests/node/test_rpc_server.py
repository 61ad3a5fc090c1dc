"""The node's JSON-RPC boundary: limits, authentication, node-only methods."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from passport.exceptions import NodeError
from passport.node.config import CONFIG_FILE, NodeConfig, hash_token
from passport.node.service import Node
from passport.sdk.accounts import dev_account
from tests import serving


def post(url: str, payload: Any, token: str | None = None) -> tuple[int, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def call(method: str, params: list[Any], id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    with Node.dev() as n:
        n.config.rpc.max_batch_size = 5
        n.config.rpc.max_request_bytes = 10_000
        n.config.rpc.max_log_block_range = 100
        yield n


def test_request_and_batch_limits(node: Node) -> None:
    status, answer = post(node.url, [call("eth_chainId", [], i) for i in range(6)])
    assert answer["error"]["code"] == -32600 and "exceeds the limit of 5" in answer["error"]["message"]
    status, answer = post(node.url, [])
    assert answer["error"]["code"] == -32600
    status, answer = post(node.url, call("eth_call", [{"data": "0x" + "00" * 20_000}]))
    assert status == 413 and answer["error"]["code"] == -32600
    status, answer = post(node.url, {"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"})
    assert answer["error"]["code"] == -32600
    status, answer = post(node.url, {"jsonrpc": "2.0", "method": "eth_chainId", "params": []})
    assert status == 204 and answer is None  # a notification gets no answer


def test_invalid_params_say_what_is_wrong(node: Node) -> None:
    _, answer = post(node.url, call("eth_getBalance", ["0xnothex", "latest"]))
    assert answer["error"]["code"] == -32602 and "not a 20-byte hex address" in answer["error"]["message"]
    _, answer = post(node.url, call("eth_getBalance", [dev_account(0).address, "0x99999"]))
    assert answer["error"]["code"] == -32000 and "header not found" in answer["error"]["message"]
    _, answer = post(node.url, call("eth_getBlockByNumber", ["latest"]))
    assert answer["error"]["code"] == -32602 and "expected 2 parameters" in answer["error"]["message"]


def test_log_range_limit(node: Node) -> None:
    w3 = Web3(Web3.HTTPProvider(node.url))
    for _ in range(3):
        sender = dev_account(2)
        tx = {"chainId": 1337, "nonce": w3.eth.get_transaction_count(sender.address), "to": sender.address,
              "value": 0, "gas": 21_000, "gasPrice": 5 * 10**9}  # fmt: skip
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        )
    node.config.rpc.max_log_block_range = 2
    _, answer = post(node.url, call("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}]))
    assert answer["error"]["code"] == -32005
    assert (
        "block range too large" in answer["error"]["message"] and "limit is 2" in answer["error"]["message"]
    )
    node.config.rpc.max_log_block_range = 100


def test_node_methods(node: Node) -> None:
    _, answer = post(node.url, call("eth_accounts", []))
    assert answer["result"] == []
    _, seal = post(node.url, call("passport_getBlockSeal", ["latest"]))
    assert seal["result"]["signer"] == node.info()["sealer"]
    _, info = post(node.url, call("passport_nodeInfo", []))
    assert info["result"]["role"] == "sealer" and info["result"]["chainId"] == 1337
    _, genesis = post(node.url, call("passport_getGenesis", []))
    assert genesis["result"]["hash"] == "0x" + node.chain.genesis_hash.hex()


def test_tokens_and_scopes(tmp_path: Path) -> None:
    tokens = {"read": "r-token", "write": "w-token", "admin": "a-token"}
    with Node.dev(tmp_path):
        pass
    config = NodeConfig.read(tmp_path / CONFIG_FILE)
    config.rpc.tokens = [{"sha256": hash_token(t), "scope": s} for s, t in tokens.items()]
    config.write(tmp_path / CONFIG_FILE)
    with Node.dev(tmp_path) as node:
        status, answer = post(node.url, call("eth_chainId", []))
        assert status == 401 and answer["error"]["code"] == -32001
        assert post(node.url, call("eth_chainId", []), "wrong")[0] == 401
        assert post(node.url, call("eth_chainId", []), tokens["read"])[1]["result"] == "0x539"
        _, answer = post(node.url, call("eth_sendRawTransaction", ["0x00"]), tokens["read"])
        assert answer["error"]["code"] == -32001 and "write-scope" in answer["error"]["message"]
        _, answer = post(node.url, call("eth_sendRawTransaction", ["0x00"]), tokens["write"])
        assert answer["error"]["code"] == -32000  # past the scope check: refused as undecodable
        _, answer = post(
            node.url, call("perm_addAccountsToAllowlist", [[dev_account(0).address]]), tokens["write"]
        )
        assert answer["error"]["code"] == -32001
        _, answer = post(
            node.url, call("perm_addAccountsToAllowlist", [[dev_account(0).address]]), tokens["admin"]
        )
        assert answer["result"] == "Success"
        # a replica reports its head with a write token; a read token is not enough
        _, answer = post(node.url, call("passport_reportReplicaHead", ["r1", "0x1"]), tokens["read"])
        assert answer["error"]["code"] == -32001
        _, answer = post(node.url, call("passport_reportReplicaHead", ["r1", "0x1"]), tokens["write"])
        assert answer["result"] is True


def test_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    from passport.node.devchain import dev_setup

    genesis, config, validator = dev_setup(tmp_path, 0)
    config.rpc.host = "0.0.0.0"
    with pytest.raises(NodeError, match="without authentication"):
        Node(tmp_path, genesis, config, validator=validator)


def test_a_batch_of_transactions_is_sealed_in_one_block(node: Node) -> None:
    sender = dev_account(4)
    w3 = Web3(Web3.HTTPProvider(node.url))
    nonce = w3.eth.get_transaction_count(sender.address)
    for _round in range(3):
        raws = [
            sender.sign_transaction({"chainId": 1337, "nonce": nonce + i, "to": dev_account(5).address,
                                     "value": 1, "gas": 21_000, "gasPrice": 5 * 10**9}).raw_transaction
            for i in range(5)
        ]  # fmt: skip
        nonce += 5
        _, answers = post(
            node.url, [call("eth_sendRawTransaction", ["0x" + r.hex()], i) for i, r in enumerate(raws)]
        )
        receipts = [w3.eth.wait_for_transaction_receipt(a["result"]) for a in answers]
        assert len({r["blockNumber"] for r in receipts}) == 1


# -------------------------------------------------------------------- connections and operations


def seal_a_transfer(w3: Web3) -> Any:
    """A zero-value transfer from dev account 3 to itself, waited for; its receipt."""
    sender = dev_account(3)
    tx = {"chainId": 1337, "nonce": w3.eth.get_transaction_count(sender.address), "to": sender.address,
          "value": 0, "gas": 21_000, "gasPrice": 5 * 10**9}  # fmt: skip
    return w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    )


@pytest.fixture
def tight_node() -> Iterator[Node]:
    """A node with a 1 s idle timeout and room for 6 connections."""
    node = Node.dev()
    node.config.rpc.idle_timeout_seconds = 1.0
    node.config.rpc.max_connections = 6
    with node.start():
        yield node


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """The server closes ``sock`` (EOF) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    return True


def test_idle_and_stalled_connections_are_closed(tight_node: Node) -> None:
    idle = _connect(tight_node.url)
    stalled = _connect(tight_node.url)
    stalled.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")  # the body never comes
    kept_alive = _connect(tight_node.url)
    body = json.dumps(call("eth_chainId", [])).encode()
    kept_alive.sendall(b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                       % (len(body), body))  # fmt: skip
    answer = b""
    while b"0x539" not in answer and len(answer) < 4096:
        answer += kept_alive.recv(4096)
    try:
        for sock in (idle, stalled, kept_alive):
            assert _closed_within(sock, 10), "the server kept an idle connection open"
    finally:
        for sock in (idle, stalled, kept_alive):
            sock.close()


@pytest.fixture(scope="module")
def limited_node() -> Iterator[Node]:
    """A node with the serving limits the shared checks (tests/serving.py) expect."""
    node = Node.dev()
    node.config.rpc.idle_timeout_seconds = serving.IDLE_TIMEOUT
    node.config.rpc.request_deadline_seconds = serving.REQUEST_DEADLINE
    with node.start():
        yield node


CHAIN_ID = json.dumps(call("eth_chainId", [])).encode()
CHAIN_ID_REQUEST = (
    b"POST / HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    % (
        len(CHAIN_ID),
        CHAIN_ID,
    )
)


def test_200_idle_connections_are_closed_while_requests_are_answered(limited_node: Node) -> None:
    serving.idle_connections_are_closed(limited_node.url, CHAIN_ID_REQUEST)


def test_a_client_dripping_its_request_is_cut_off_at_the_deadline(limited_node: Node) -> None:
    serving.slow_client_is_cut_off(limited_node.url, CHAIN_ID_REQUEST)


def test_a_keep_alive_request_is_no_slower_than_a_fresh_one(limited_node: Node) -> None:
    serving.keep_alive_is_not_slower(limited_node.url, CHAIN_ID_REQUEST)


def test_connections_beyond_the_limit_are_refused_clearly(tight_node: Node) -> None:
    held = [_connect(tight_node.url) for _ in range(6)]
    time.sleep(0.2)  # the server has accepted them
    extra = _connect(tight_node.url)
    answer = extra.recv(4096)
    assert answer.startswith(b"HTTP/1.1 503") and b"too many connections" in answer
    for sock in [*held, extra]:
        sock.close()
    time.sleep(0.2)
    assert post(tight_node.url, call("eth_chainId", []))[1]["result"] == "0x539"


def test_metrics_and_health_endpoints(node: Node) -> None:
    w3 = Web3(Web3.HTTPProvider(node.url))
    seal_a_transfer(w3)
    post(node.url, call("eth_getBalance", ["0xbad"]))
    with urllib.request.urlopen(node.url + "/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    assert f"passport_head_block {float(w3.eth.block_number)}" in text
    assert "passport_pending_transactions 0.0" in text
    assert re.search(r"passport_sealed_transactions_total [1-9]", text)
    assert "passport_seal_seconds_count" in text
    assert 'passport_rpc_requests_total{method="eth_sendRawTransaction"}' in text
    assert 'passport_rpc_errors_total{code="-32602",method="eth_getBalance"}' in text
    for path in ("/liveness", "/readiness"):
        with urllib.request.urlopen(node.url + path, timeout=10) as response:
            assert response.status == 200 and json.loads(response.read())["status"] == "UP"


def test_a_sealed_block_is_logged_in_one_line(node: Node, caplog: pytest.LogCaptureFixture) -> None:
    w3 = Web3(Web3.HTTPProvider(node.url))
    with caplog.at_level(logging.INFO, logger="passport.node"):
        receipt = seal_a_transfer(w3)
        time.sleep(0.1)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sealed block")]
    number = receipt["blockNumber"]
    assert any(f"number={number} " in line and "txs=1 gas=21000 ms=" in line for line in lines), lines


# -------------------------------------------------------------------- eth_call


NUMBER_INITCODE = "0x4360005260206000f3"  # NUMBER, MSTORE at 0, RETURN 32 bytes
ENDLESS_LOOP = "0x5b600056"  # JUMPDEST, PUSH1 0, JUMP


def test_eth_call_runs_in_the_blocks_own_context(node: Node) -> None:
    head = int(post(node.url, call("eth_blockNumber", []))[1]["result"], 16)
    _, answer = post(node.url, call("eth_call", [{"data": NUMBER_INITCODE}, "latest"]))
    assert int(answer["result"], 16) == head  # as geth: NUMBER is the block's, not head + 1
    _, answer = post(node.url, call("eth_call", [{"data": NUMBER_INITCODE}, "0x0"]))
    assert int(answer["result"], 16) == 0


def test_eth_call_gas_and_time_caps(node: Node) -> None:
    node.config.rpc.evm_timeout_seconds = 60.0
    node.config.rpc.gas_cap = 200_000
    try:
        _, answer = post(node.url, call("eth_call", [{"data": ENDLESS_LOOP, "gas": hex(30_000_000)}]))
        assert answer["error"] == {"code": -32000, "message": "out of gas"}  # capped at 200,000 gas
        node.config.rpc.evm_timeout_seconds = 0.5
        node.config.rpc.gas_cap = 10**12
        _, answer = post(node.url, call("eth_call", [{"data": ENDLESS_LOOP, "gas": hex(10**11)}]))
        assert answer["error"]["code"] == -32005 and "timeout = 0.5s" in answer["error"]["message"]
        _, answer = post(node.url, call("eth_estimateGas", [{"data": ENDLESS_LOOP, "gas": hex(10**11)}]))
        assert answer["error"]["code"] == -32005
    finally:
        node.config.rpc.evm_timeout_seconds = 5.0
        node.config.rpc.gas_cap = 50_000_000


def test_a_heavy_call_does_not_hold_other_reads(node: Node) -> None:
    """Reads and sealing go on while eth_calls run (they execute on a snapshot, without the
    chain lock): the other answers come back before the heavy calls finish."""
    node.config.rpc.evm_timeout_seconds = 3.0
    node.config.rpc.gas_cap = 10**12
    finished: list[str] = []

    def heavy() -> None:
        post(node.url, call("eth_call", [{"data": ENDLESS_LOOP, "gas": hex(10**11)}]))
        finished.append("heavy")

    threads = [threading.Thread(target=heavy) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        w3 = Web3(Web3.HTTPProvider(node.url))
        seal_a_transfer(w3)
        assert post(node.url, call("eth_blockNumber", []))[1]["result"]
        assert not finished, "the reads and the seal waited for the heavy calls"
    finally:
        for thread in threads:
            thread.join()
        node.config.rpc.evm_timeout_seconds = 5.0
        node.config.rpc.gas_cap = 50_000_000


def test_client_disconnects_leave_no_traceback(
    tight_node: Node, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps(call("eth_getBlockByNumber", ["latest", True])).encode()
    request = b"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    with caplog.at_level(logging.DEBUG, logger="passport.node.rpc"):
        for cut in (0, 10, len(request), len(request) + len(body)):
            sock = _connect(tight_node.url)
            sock.sendall((request + body)[:cut])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()  # an abortive close (RST), mid-request or before the answer is read
        time.sleep(0.5)
        assert post(tight_node.url, call("eth_chainId", []))[1]["result"] == "0x539"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err
