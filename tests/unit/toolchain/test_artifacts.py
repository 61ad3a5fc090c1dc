"""Reading the artifacts shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from passport import ArtifactNotFound, PassportError, load_artifact


def test_load_artifact() -> None:
    artifact = load_artifact("MineralPassport")
    assert artifact.name == "MineralPassport"
    names = {item.get("name") for item in artifact.abi}
    assert {"mint", "offer", "accept", "split", "process", "transferFrom", "BatchNotFound"} <= names
    assert artifact.bytecode.startswith("0x")
    assert artifact.source_hash.startswith("0x")


def test_unknown_artifact_lists_the_available_ones() -> None:
    with pytest.raises(
        ArtifactNotFound, match=r"no artifact for contract 'Nope'; available: Attestation"
    ) as info:
        load_artifact("Nope")
    assert info.value.name == "Nope"
    assert isinstance(info.value, PassportError)


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match=r"available: none"):
        load_artifact("Consortium", tmp_path)
