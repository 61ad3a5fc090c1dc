"""Accounts: encrypted JSON keystores (eth-account) and the development mnemonic.

Private keys never travel on a command line or into logs: a keystore's password comes from a
prompt or from an environment variable (``PASSPORT_PASSWORD`` unless told otherwise).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from passport._utils.dev import DEV_MNEMONIC, DEV_ROLES, PASSWORD_ENV, dev_account, dev_accounts
from passport.exceptions import KeystoreError, SdkError

__all__ = [
    "DEV_MNEMONIC",
    "DEV_ROLES",
    "PASSWORD_ENV",
    "create_keystore",
    "dev_account",
    "dev_accounts",
    "dev_signer",
    "load_keystore",
    "signer",
]


def dev_signer(name: str | int) -> LocalAccount:
    """A development account by the demo role it plays (``"admin"``, ``"mine-a"``, ``"fab"``, …:
    ``DEV_ROLES``) or by index: the standard test mnemonic's, funded on anvil and on
    ``passport node start --dev``. For development chains only: its key is public.

    Raises:
        SdkError: an unknown name or a negative index.
    """
    if isinstance(name, int) and not isinstance(name, bool):
        if name < 0:
            raise SdkError(f"dev account {name}: the index must be 0 or more")
        return dev_account(name)
    if name not in DEV_ROLES:
        raise SdkError(f"unknown dev account {name!r}; the names are {', '.join(DEV_ROLES)}")
    return dev_account(DEV_ROLES.index(name))


def signer(
    keystore: Path | None = None, *, dev: str | int | None = None, password: str | None = None
) -> LocalAccount:
    """The account that signs: a keystore (its password given, else from ``$PASSPORT_PASSWORD``)
    or a development account (``dev``, see :func:`dev_signer`); exactly one of them.

    Raises:
        SdkError: neither or both given; KeystoreError: the keystore unreadable or the password wrong.
    """
    if (keystore is None) == (dev is None):
        raise SdkError("a signer needs a keystore or a dev account name, exactly one of them")
    if keystore is not None:
        return load_keystore(Path(keystore), password)
    assert dev is not None
    return dev_signer(dev)


def create_keystore(path: Path, password: str, account: LocalAccount | None = None) -> LocalAccount:
    """Write a new (or the given) account as an encrypted keystore; refuses to overwrite.

    Raises:
        KeystoreError: the file exists, the password is empty, or the file cannot be written.
    """
    if not password:
        raise KeystoreError(str(path), "the password is empty")
    if path.exists():
        raise KeystoreError(str(path), "file exists; refusing to overwrite a key")
    account = account or Account.create()
    data = Account.encrypt(account.key, password)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
    except OSError as exc:
        raise KeystoreError(str(path), exc.strerror or str(exc)) from exc
    return account


def load_keystore(path: Path, password: str | None = None, env: str = PASSWORD_ENV) -> LocalAccount:
    """Decrypt a keystore with ``password`` or, when None, the environment variable ``env``.

    Raises:
        KeystoreError: unreadable file, not a keystore, no password, or a wrong password.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeystoreError(str(path), "no such file") from exc
    except (OSError, ValueError) as exc:
        raise KeystoreError(str(path), f"not a readable JSON keystore ({type(exc).__name__})") from exc
    if not isinstance(data, dict) or "crypto" not in {k.lower() for k in data}:
        raise KeystoreError(str(path), "not an Ethereum keystore (no crypto section)")
    if password is None:
        password = os.environ.get(env)
        if password is None:
            raise KeystoreError(str(path), f"no password given and ${env} is not set")
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        raise KeystoreError(str(path), "wrong password (MAC mismatch)") from exc
    account: LocalAccount = Account.from_key(key)
    return account
