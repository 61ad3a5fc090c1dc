"""The compile step: deterministic artifacts, committed artifacts current, clear errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from eth_utils import keccak

from passport.exceptions import (
    ArtifactsStale,
    CompilationFailed,
    CompilerNotFound,
    SourcesNotFound,
)
from passport.toolchain import artifact_names, check_artifacts, compile_contracts, write_artifacts
from passport.toolchain.compiler import REPO_ROOT

SHIM = REPO_ROOT / "scripts" / "solc"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compiled() -> dict[str, str]:
    return compile_contracts().files


def _tiny_repo(root: Path, source: str) -> Path:
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "Tiny.sol").write_text(source)
    return root


def test_committed_artifacts_match_sources() -> None:
    check_artifacts()


def test_compile_is_byte_for_byte_deterministic(compiled: dict[str, str]) -> None:
    assert compile_contracts().files == compiled


def test_artifacts_cover_each_deployable_contract(compiled: dict[str, str]) -> None:
    assert sorted(compiled) == ["AttestationRegistry.json", "Consortium.json", "MineralPassport.json"]
    assert artifact_names() == ["AttestationRegistry", "Consortium", "MineralPassport"]


@pytest.mark.parametrize("name", ["AttestationRegistry", "Consortium", "MineralPassport"])
def test_artifact_records_compiler_settings_and_source_hash(compiled: dict[str, str], name: str) -> None:
    artifact = json.loads(compiled[f"{name}.json"])
    assert artifact["contractName"] == name
    assert artifact["compiler"]["version"].startswith("0.8.28+commit.")
    assert artifact["compiler"]["settings"]["evmVersion"] == "cancun"
    assert artifact["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 10_000}
    source = (REPO_ROOT / artifact["sourceName"]).read_bytes()
    assert artifact["sourceHash"] == "0x" + keccak(source).hex()
    for key in ("bytecode", "deployedBytecode"):
        assert artifact[key].startswith("0x")
        assert len(bytes.fromhex(artifact[key][2:])) > 1000
    assert any(item.get("type") == "error" for item in artifact["abi"])


def test_stale_artifact_is_reported(tmp_path: Path, compiled: dict[str, str]) -> None:
    for name, text in compiled.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "Consortium.json").write_text(compiled["Consortium.json"].replace("cancun", "paris"))
    (tmp_path / "Removed.json").write_text("{}")
    with pytest.raises(ArtifactsStale, match=r"Consortium\.json, Removed\.json.*passport compile") as info:
        check_artifacts(out_dir=tmp_path)
    assert info.value.names == ["Consortium.json", "Removed.json"]


def test_write_artifacts_reports_changes_and_removes_orphans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSPORT_SOLC", str(SHIM))
    root = _tiny_repo(tmp_path / "repo", "pragma solidity 0.8.28; contract Tiny { uint256 public x = 1; }")
    out = tmp_path / "out"
    out.mkdir()
    (out / "Gone.json").write_text("{}")
    assert write_artifacts(out_dir=out, root=root) == ["Tiny.json", "Gone.json"]
    assert write_artifacts(out_dir=out, root=root) == []
    assert sorted(p.name for p in out.iterdir()) == ["Tiny.json"]


def test_compilation_error_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSPORT_SOLC", str(SHIM))
    root = _tiny_repo(tmp_path, "pragma solidity 0.8.28; contract Tiny { function f( }")
    with pytest.raises(CompilationFailed, match=r"contract compilation failed: ParserError"):
        compile_contracts(root)


def test_missing_sources(tmp_path: Path) -> None:
    with pytest.raises(SourcesNotFound, match=r"no contract sources at .*contracts"):
        compile_contracts(tmp_path)


def test_missing_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSPORT_SOLC", str(tmp_path / "solc"))
    with pytest.raises(CompilerNotFound, match=r"not usable: missing or not executable"):
        compile_contracts()


def test_compiler_that_does_not_answer_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "solc"
    fake.write_text("#!/bin/sh\necho 'no version here'\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PASSPORT_SOLC", str(fake))
    with pytest.raises(CompilerNotFound, match=r"solc compiler at .* is not usable"):
        compile_contracts()
    assert os.environ["PASSPORT_SOLC"] == str(fake)
