"""Deterministic compilation of ``contracts/`` through py-solc-x.

The compiler is the repository's ``scripts/solc`` shim (solc-js from node_modules, so nothing is
downloaded) unless ``PASSPORT_SOLC`` names another solc executable. Settings mirror
``foundry.toml`` so both toolchains build the same bytecode.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from passport._utils.files import atomic_write
from passport.exceptions import ArtifactsStale, CompilationFailed, CompilerNotFound, SourcesNotFound
from passport.toolchain.artifacts import ARTIFACTS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = "contracts"
REMAPPINGS = ("@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",)
SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 10_000},
    "metadata": {"bytecodeHash": "none", "appendCBOR": False},
    "remappings": list(REMAPPINGS),
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]},
    },
}


@dataclass(frozen=True, slots=True)
class CompileResult:
    """Rendered artifact files, by file name, and the compiler version that produced them."""

    files: dict[str, str]
    compiler_version: str


def solc_path(root: Path = REPO_ROOT) -> Path:
    """The solc executable to use: ``$PASSPORT_SOLC`` or the repository's shim."""
    return Path(os.environ.get("PASSPORT_SOLC") or root / "scripts" / "solc")


def _sources(root: Path) -> dict[str, dict[str, str]]:
    contracts = root / CONTRACTS_DIR
    files = sorted(contracts.rglob("*.sol")) if contracts.is_dir() else []
    if not files:
        raise SourcesNotFound(str(contracts))
    return {p.relative_to(root).as_posix(): {"content": p.read_text(encoding="utf-8")} for p in files}


def _compiler_version(solc: Path) -> str:
    if not solc.is_file() or not os.access(solc, os.X_OK):
        raise CompilerNotFound(str(solc), "missing or not executable")
    try:
        return str(solcx.wrapper.get_solc_version(solc, with_commit_hash=True))
    except (OSError, SolcError, ValueError) as exc:
        raise CompilerNotFound(str(solc), str(exc).strip().splitlines()[0]) from exc


def compile_contracts(root: Path = REPO_ROOT) -> CompileResult:
    """Compile every deployable contract directly under ``contracts/``.

    Raises:
        SourcesNotFound: there is no ``contracts/`` directory with Solidity files.
        CompilerNotFound: the solc executable is missing or does not answer ``--version``.
        CompilationFailed: solc reported errors.
    """
    sources = _sources(root)
    solc = solc_path(root)
    version = _compiler_version(solc)
    standard_input = {"language": "Solidity", "sources": sources, "settings": SETTINGS}
    try:
        output = solcx.compile_standard(
            standard_input, solc_binary=solc, base_path=str(root), allow_paths=[str(root)]
        )
    except SolcError as exc:
        messages = [e.get("formattedMessage", str(e)) for e in getattr(exc, "error_dict", None) or []]
        raise CompilationFailed(messages or [str(exc)]) from exc
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationFailed(errors)

    files: dict[str, str] = {}
    for source_name, contracts in sorted(output["contracts"].items()):
        if Path(source_name).parent.as_posix() != CONTRACTS_DIR:
            continue  # interfaces and libraries have no deployable bytecode of their own
        for name, out in sorted(contracts.items()):
            bytecode = out["evm"]["bytecode"]["object"]
            if not bytecode:
                continue
            metadata = json.loads(out["metadata"])
            sources = {path: meta["keccak256"] for path, meta in sorted(metadata["sources"].items())}
            artifact = {
                "contractName": name,
                "sourceName": source_name,
                "abi": out["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
                "compiler": {
                    "version": version,
                    "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
                },
                "sourceHash": sources[source_name],
                "sources": sources,
            }
            files[f"{name}.json"] = json.dumps(artifact, indent=2, sort_keys=True) + "\n"
    return CompileResult(files=files, compiler_version=version)


def write_artifacts(out_dir: Path = ARTIFACTS_DIR, root: Path = REPO_ROOT) -> list[str]:
    """Compile and write artifacts, removing ones whose contract is gone.

    Returns:
        File names whose content changed (written, or deleted).
    """
    result = compile_contracts(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    changed: list[str] = []
    for name, text in result.files.items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write(path, text)
            changed.append(name)
    for path in sorted(out_dir.glob("*.json")):
        if path.name not in result.files:
            path.unlink()
            changed.append(path.name)
    return changed


def check_artifacts(out_dir: Path = ARTIFACTS_DIR, root: Path = REPO_ROOT) -> None:
    """Raise unless the committed artifacts are exactly what the sources compile to.

    Raises:
        ArtifactsStale: some artifact is missing, extra, or different.
    """
    result = compile_contracts(root)
    present = {p.name: p.read_text(encoding="utf-8") for p in out_dir.glob("*.json")}
    stale = sorted(
        name for name in set(present) | set(result.files) if present.get(name) != result.files.get(name)
    )
    if stale:
        raise ArtifactsStale(stale)
