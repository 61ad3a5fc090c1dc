"""Compiled contract artifacts shipped inside the package (``passport/artifacts/*.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from passport.exceptions import ArtifactNotFound

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"


@dataclass(frozen=True, slots=True)
class Artifact:
    """ABI and bytecode of one compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    source_hash: str


def artifact_names(directory: Path = ARTIFACTS_DIR) -> list[str]:
    """Names of the contracts that have an artifact, sorted."""
    return sorted(p.stem for p in directory.glob("*.json"))


@cache
def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    """Load a contract's artifact by name.

    Raises:
        ArtifactNotFound: no artifact of that name exists.
    """
    path = directory / f"{name}.json"
    if not path.is_file():
        raise ArtifactNotFound(name, artifact_names(directory))
    data = json.loads(path.read_text(encoding="utf-8"))
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler_version=data["compiler"]["version"],
        source_hash=data["sourceHash"],
    )
