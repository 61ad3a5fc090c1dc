"""The development accounts: the standard test mnemonic (anvil's and Hardhat's) and the demo
consortium's roles in mnemonic order. Shared by the SDK and the node's ``--dev`` chain, which
import nothing from each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # eth-account loads in ~0.5 s: only when an account is made
    from eth_account.signers.local import LocalAccount

DEV_MNEMONIC = "test test test test test test test test test test test junk"
# The demo consortium's members, in mnemonic order (index 0 is anvil's and Hardhat's first account).
DEV_ROLES = (
    "admin",
    "mine-a",
    "mine-b",
    "carrier",
    "refinery",
    "converter",
    "fab",
    "certifier",
    "regulator",
    "auditor",
)
# where a keystore's password is read from when no terminal can prompt for it
PASSWORD_ENV = "PASSPORT_PASSWORD"


def dev_account(index: int, path: str = "m/44'/60'/0'/0/{index}") -> LocalAccount:
    """Account ``index`` of the standard test mnemonic (m/44'/60'/0'/0/index)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=path.format(index=index))
    return account


def dev_accounts(count: int = len(DEV_ROLES)) -> list[LocalAccount]:
    return [dev_account(i) for i in range(count)]
