"""`passport node start --dev` driven by cast and `forge script`, and the `passport node` verbs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from passport.node.process import NodeProcess, passport_executable
from passport.sdk.accounts import dev_account
from passport.toolchain.anvil import foundry_binary
from passport.toolchain.compiler import REPO_ROOT

pytestmark = pytest.mark.slow


def run(
    *command: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed: {result.stderr}\n{result.stdout}")
    return result


def key(index: int) -> str:
    return "0x" + bytes(dev_account(index).key).hex()


def test_cast_send_call_logs_receipt(dev_node: NodeProcess) -> None:
    cast, url = str(foundry_binary("cast")), dev_node.url
    sent = json.loads(run(cast, "send", "--rpc-url", url, "--private-key", key(5), dev_account(9).address,
                          "--value", "1", "--json").stdout)  # fmt: skip
    assert sent["status"] == "0x1"
    receipt = json.loads(run(cast, "receipt", sent["transactionHash"], "--rpc-url", url, "--json").stdout)
    assert receipt["blockHash"] == sent["blockHash"]
    assert run(cast, "balance", dev_account(5).address, "--rpc-url", url).stdout.strip().isdigit()
    assert run(cast, "chain-id", "--rpc-url", url).stdout.strip() == "1337"


def test_forge_script_deploys_the_contracts(dev_node: NodeProcess) -> None:
    forge, cast, url = str(foundry_binary("forge")), str(foundry_binary("cast")), dev_node.url
    output = run(
        forge,
        "script",
        "scripts/forge/Deploy.s.sol",
        "--rpc-url",
        url,
        "--private-key",
        key(6),
        "--broadcast",
    )
    assert "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL" in output.stdout
    broadcast = json.loads(
        (REPO_ROOT / "build/forge/broadcast/Deploy.s.sol/1337/run-latest.json").read_text()
    )
    consortium = broadcast["transactions"][0]["contractAddress"]
    assert all(r["status"] == "0x1" for r in broadcast["receipts"])
    allowed = run(cast, "call", "--rpc-url", url, consortium,
                  "transactionAllowed(address,address,uint256,uint256,uint256,bytes)(bool)",
                  dev_account(6).address, consortium, "0", "0", "0", "0x")  # fmt: skip
    assert allowed.stdout.strip() == "true"
    logs = json.loads(run(cast, "logs", "--rpc-url", url, "--from-block", "0", "--address", consortium,
                          "MemberAdded(address,uint8,bytes2)", "--json").stdout)  # fmt: skip
    assert len(logs) == 1 and logs[0]["topics"][1].endswith(dev_account(6).address[2:].lower())
    reverted = run(cast, "call", "--rpc-url", url, consortium, "requireMember(address,uint8)",
                   "0x0000000000000000000000000000000000000001", "1", check=False)  # fmt: skip
    assert reverted.returncode != 0 and "execution reverted" in reverted.stderr


def test_init_start_status_with_a_keystore(tmp_path: Path) -> None:
    passport = passport_executable()
    alloc = tmp_path / "alloc.json"
    alloc.write_text(json.dumps({dev_account(3).address: {"balance": hex(10**20)}}))
    env = {"PASSPORT_PASSWORD": "correct horse"}
    data = tmp_path / "node"
    init = json.loads(run(*passport, "node", "init", "--data-dir", str(data), "--chain-id", "4242",
                          "--alloc", str(alloc), "--json", env=env).stdout)  # fmt: skip
    assert init["chainId"] == 4242 and dev_account(3).address in init["allowlist"]
    assert (data / "validator.json").exists() and (data / "node.toml").exists()
    again = run(*passport, "node", "init", "--data-dir", str(data), env=env, check=False)
    assert (
        again.returncode == 1 and "refusing to overwrite" in again.stderr and "Traceback" not in again.stderr
    )
    os.environ["PASSPORT_PASSWORD"] = "correct horse"
    try:
        with NodeProcess(data_dir=data, args=("--block-interval", "0.2")) as node:
            status = json.loads(run(*passport, "node", "status", "--rpc-url", node.url, "--json").stdout)
            assert status["role"] == "sealer" and status["sealer"] == init["validator"]
            assert status["chainId"] == 4242 and status["pending"] == 0
            human = run(*passport, "node", "status", "--rpc-url", node.url).stdout
            assert "sealer of chain 4242" in human
            assert node.stop() == 0  # SIGTERM: a clean shutdown
    finally:
        del os.environ["PASSPORT_PASSWORD"]
    wrong = run(
        *passport, "node", "start", "--data-dir", str(data), env={"PASSPORT_PASSWORD": "wrong"}, check=False
    )
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    missing = run(*passport, "node", "start", "--data-dir", str(tmp_path / "empty"), check=False)
    assert missing.returncode == 1 and "not initialised" in missing.stderr


def test_status_of_a_node_that_is_not_there() -> None:
    result = run(*passport_executable(), "node", "status", "--rpc-url", "http://127.0.0.1:9", check=False)
    assert result.returncode == 1 and "unreachable" in result.stderr and "Traceback" not in result.stderr
