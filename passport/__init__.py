"""Mineral Passport: verifiable provenance for critical minerals on a permissioned EVM chain."""

import importlib
import os
from typing import TYPE_CHECKING, Any

# Keccak through eth-hash's C backend (safe-pysha3): about 8x faster than the pycryptodome
# backend eth-hash picks first when both are installed. Chosen on the first hash, process-wide;
# set ETH_HASH_BACKEND to choose another.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

from passport.core.types import Batch, FacilityKind, ProcessOutput, Role, Stage, SubjectKind
from passport.exceptions import (
    ArtifactNotFound,
    ArtifactsStale,
    CompilationFailed,
    CompilerNotFound,
    ContractRevert,
    DeploymentExists,
    DeploymentMismatch,
    DeploymentNotFound,
    KeystoreError,
    PassportError,
    PassportFileInvalid,
    PolicyError,
    RpcUnreachable,
    SdkError,
    SourcesNotFound,
    ToolchainError,
    TransactionFailed,
)

if TYPE_CHECKING:
    from passport.sdk import (
        AttestationRequest,
        Call,
        Client,
        Founder,
        PassportDocument,
        Policy,
        PolicyResult,
        Proposal,
        Sdk,
        Sent,
        SignedAttestation,
        VerificationReport,
        sign_attestation,
    )
    from passport.sdk.accounts import create_keystore, dev_signer, load_keystore, signer
    from passport.toolchain import Artifact, artifact_names, load_artifact

# The SDK (web3) and the toolchain (py-solc-x) load on first use, so that ``passport.evidence``
# (the offline verifier a buyer embeds) and ``passport.node`` import neither.
_LAZY = {
    **dict.fromkeys(
        (
            "AttestationRequest", "Call", "Client", "Founder", "PassportDocument", "Policy", "PolicyResult",
            "Proposal", "Sdk", "Sent", "SignedAttestation", "VerificationReport", "sign_attestation",
        ),
        "passport.sdk",
    ),
    **dict.fromkeys(("Artifact", "artifact_names", "load_artifact"), "passport.toolchain"),
    **dict.fromkeys(("create_keystore", "dev_signer", "load_keystore", "signer"), "passport.sdk.accounts"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata is slow to load: only when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mineral-passport")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0.0.0"
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'passport' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Artifact",
    "ArtifactNotFound",
    "ArtifactsStale",
    "AttestationRequest",
    "Batch",
    "Call",
    "Client",
    "CompilationFailed",
    "CompilerNotFound",
    "ContractRevert",
    "DeploymentExists",
    "DeploymentMismatch",
    "DeploymentNotFound",
    "FacilityKind",
    "Founder",
    "KeystoreError",
    "PassportDocument",
    "PassportError",
    "PassportFileInvalid",
    "Policy",
    "PolicyError",
    "PolicyResult",
    "ProcessOutput",
    "Proposal",
    "Role",
    "RpcUnreachable",
    "Sdk",
    "SdkError",
    "Sent",
    "SignedAttestation",
    "SourcesNotFound",
    "Stage",
    "SubjectKind",
    "ToolchainError",
    "TransactionFailed",
    "VerificationReport",
    "__version__",
    "artifact_names",
    "create_keystore",
    "dev_signer",
    "load_artifact",
    "load_keystore",
    "sign_attestation",
    "signer",
]
