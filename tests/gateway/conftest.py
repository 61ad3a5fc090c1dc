"""A mine site on the dev node (a facility and its registered devices), a Mosquitto broker from
Debian's package on a free loopback port, and the gateway as a child process."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from passport.cli.gateway import device_key
from passport.core.types import FacilityKind, Role
from passport.node.process import NodeProcess, passport_executable
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from passport.toolchain.anvil import free_port, wait_port
from passport.toolchain.mosquitto import Mosquitto, mosquitto_binary

SEED = "test-site"


@dataclass
class Site:
    url: str
    sdk: Sdk
    operator: LocalAccount
    facility: int
    devices: list[LocalAccount]
    deployments: Path

    def chain_args(self) -> list[str]:
        return ["--rpc-url", self.url, "--network", "site", "--deployments", str(self.deployments)]


def make_site(url: str, deployments: Path, devices: int = 4) -> Site:
    admin, miner = dev_accounts(2)
    founders = [Founder(admin.address, Role.ADMIN, "VN"), Founder(miner.address, Role.MINER, "VN")]
    sdk = Sdk.deploy(Client.connect(url), admin, founders, network="site", directory=deployments)
    sdk.consortium.propose_facility(admin, miner.address, "VN", FacilityKind.MINE)
    facility = sdk.consortium.facility_count()
    keys = [device_key(SEED, n) for n in range(devices)]
    for key in keys:
        sdk.consortium.register_device(miner, key.address, facility)
    return Site(url, sdk, miner, facility, keys, deployments)


@pytest.fixture(scope="module")
def site(dev_node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(dev_node.url, tmp_path_factory.mktemp("deployments"))


def operator_role() -> str:
    return DEV_ROLES[1]


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    """Mosquitto on a free loopback port, stopped at the end."""
    if mosquitto_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is missing: make setup installs it as root")
        pytest.skip("mosquitto is missing (make setup installs it as root)")
    with Mosquitto() as running:
        yield running.url


class GatewayProcess:
    """``passport gateway start`` as a child process on a free port."""

    def __init__(self, site: Site, data_dir: Path, *extra: str) -> None:
        self.site, self.data_dir, self.extra = site, data_dir, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / f"{data_dir.name}.log"

    def start(self) -> GatewayProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            *passport_executable(),
            "gateway",
            "start",
            "--facility",
            str(self.site.facility),
            "--data-dir",
            str(self.data_dir),
            "--http-port",
            str(self.port),
            "--dev-account",
            operator_role(),
            *self.site.chain_args(),
            *self.extra,
        ]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, text=True)
        wait_port(self.port, 30)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def logged(self) -> str:
        return self.log.read_text()

    def anchored_lines(self) -> list[str]:
        return re.findall(r"anchored window \d+: .*", self.logged())
