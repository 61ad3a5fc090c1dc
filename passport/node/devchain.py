"""The ``--dev`` chain: no set-up, the standard test mnemonic's accounts, instant sealing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_keys.datatypes import PrivateKey

from passport._utils.dev import dev_account, dev_accounts
from passport.node.config import CONFIG_FILE, GENESIS_FILE, Genesis, NodeConfig, dev_genesis

DEV_VALIDATOR_PATH = "m/44'/60'/1'/0/0"  # beside the ten funded accounts, never one of them


def dev_validator() -> PrivateKey:
    return PrivateKey(bytes(dev_account(0, DEV_VALIDATOR_PATH).key))


def dev_setup(data_dir: Path, port: int, **sealer: Any) -> tuple[Genesis, NodeConfig, PrivateKey]:
    """Genesis and config for a dev data dir: written on first use, read back afterwards."""
    validator = dev_validator()
    genesis_path, config_path = data_dir / GENESIS_FILE, data_dir / CONFIG_FILE
    if genesis_path.exists():
        genesis = Genesis.read(genesis_path)
        config = NodeConfig.read(config_path) if config_path.exists() else NodeConfig()
    else:
        genesis = dev_genesis([a.address for a in dev_accounts()], validator.public_key.to_checksum_address())
        config = NodeConfig()
        config.sealer.seal_on_transaction = True
        genesis.write(genesis_path)
        config.write(config_path)
    config.rpc.port = port
    for key, value in sealer.items():
        setattr(config.sealer, key, value)
    return genesis, config, validator
