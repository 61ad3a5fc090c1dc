"""Compiling the Solidity contracts and reading their artifacts.

The compiler (py-solc-x) loads on first use: reading artifacts needs only the JSON files.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from passport.toolchain.artifacts import Artifact, artifact_names, load_artifact

if TYPE_CHECKING:
    from passport.toolchain.compiler import CompileResult, check_artifacts, compile_contracts, write_artifacts

_COMPILER = ("CompileResult", "check_artifacts", "compile_contracts", "write_artifacts")


def __getattr__(name: str) -> Any:
    if name in _COMPILER:
        return getattr(importlib.import_module("passport.toolchain.compiler"), name)
    raise AttributeError(f"module 'passport.toolchain' has no attribute {name!r}")


__all__ = [
    "Artifact",
    "CompileResult",
    "artifact_names",
    "check_artifacts",
    "compile_contracts",
    "load_artifact",
    "write_artifacts",
]
