"""Keystores and development accounts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from passport.exceptions import KeystoreError
from passport.sdk.accounts import create_keystore, dev_accounts, load_keystore


def test_dev_accounts_are_the_standard_test_mnemonic() -> None:
    accounts = dev_accounts()
    assert accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's and Hardhat's first
    assert len({a.address for a in accounts}) == 10


def test_keystore_round_trip_is_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "mine.json"
    created = create_keystore(path, "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keystore(path, "correct horse").address == created.address
    assert created.key.hex() not in path.read_text()


def test_password_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.json"
    created = create_keystore(path, "pw")
    monkeypatch.setenv("PASSPORT_PASSWORD", "pw")
    assert load_keystore(path).address == created.address
    monkeypatch.delenv("PASSPORT_PASSWORD")
    with pytest.raises(KeystoreError, match=r"no password given and \$PASSPORT_PASSWORD is not set"):
        load_keystore(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ("not json", "not a readable JSON keystore"),
        (json.dumps({"address": "x"}), "not an Ethereum keystore"),
    ],
)
def test_unreadable_keystores(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "k.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(KeystoreError, match=reason):
        load_keystore(path, "pw")


def test_wrong_password_and_no_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    create_keystore(path, "right")
    with pytest.raises(KeystoreError, match=r"wrong password"):
        load_keystore(path, "wrong")
    with pytest.raises(KeystoreError, match=r"file exists; refusing to overwrite"):
        create_keystore(path, "again")
    with pytest.raises(KeystoreError, match=r"the password is empty"):
        create_keystore(tmp_path / "other.json", "")
