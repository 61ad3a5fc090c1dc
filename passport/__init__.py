"""Mineral Passport: verifiable provenance for critical minerals on a permissioned EVM chain."""

from importlib.metadata import PackageNotFoundError, version

from passport.exceptions import (
    ArtifactNotFound,
    ArtifactsStale,
    CompilationFailed,
    CompilerNotFound,
    PassportError,
    SourcesNotFound,
    ToolchainError,
)
from passport.toolchain import Artifact, artifact_names, load_artifact

try:
    __version__ = version("mineral-passport")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "Artifact",
    "ArtifactNotFound",
    "ArtifactsStale",
    "CompilationFailed",
    "CompilerNotFound",
    "PassportError",
    "SourcesNotFound",
    "ToolchainError",
    "__version__",
    "artifact_names",
    "load_artifact",
]
