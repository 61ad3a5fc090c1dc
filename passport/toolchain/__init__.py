"""Compiling the Solidity contracts and reading their artifacts."""

from passport.toolchain.artifacts import Artifact, artifact_names, load_artifact
from passport.toolchain.compiler import CompileResult, check_artifacts, compile_contracts, write_artifacts

__all__ = [
    "Artifact",
    "CompileResult",
    "artifact_names",
    "check_artifacts",
    "compile_contracts",
    "load_artifact",
    "write_artifacts",
]
