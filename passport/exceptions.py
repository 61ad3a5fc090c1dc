"""One exception tree for the whole package: every error a user can cause is a PassportError."""

from __future__ import annotations

from collections.abc import Sequence


class PassportError(Exception):
    """Root of every error raised by Mineral Passport."""


class ToolchainError(PassportError):
    """Compiling contracts or handling their artifacts failed."""


class CompilerNotFound(ToolchainError):
    """The solc executable (the repository's shim or a native solc) is missing or unusable."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"solc compiler at {path} is not usable: {reason}")


class CompilationFailed(ToolchainError):
    """solc reported errors."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        first = self.errors[0].strip().splitlines()[0] if self.errors else "unknown error"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"contract compilation failed: {first}{more}")


class SourcesNotFound(ToolchainError):
    """The contract sources are not available (e.g. the package was installed without the repository)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no contract sources at {path}; run `passport compile` from a repository checkout")


class ArtifactNotFound(ToolchainError):
    """No compiled artifact exists for a contract name."""

    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        self.available = list(available)
        super().__init__(
            f"no artifact for contract {name!r}; available: {', '.join(self.available) or 'none'}"
        )


class ArtifactsStale(ToolchainError):
    """Committed artifacts differ from what the sources compile to."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        super().__init__(f"artifacts out of date: {', '.join(self.names)}; run `passport compile`")


class SdkError(PassportError):
    """An SDK operation could not be completed."""


class RpcUnreachable(SdkError):
    """The JSON-RPC endpoint did not answer."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach JSON-RPC endpoint {url}: {reason}")


class ContractRevert(SdkError):
    """A contract call or transaction reverted; the custom error is decoded from the ABIs."""

    def __init__(self, name: str, args: dict[str, object], contract: str | None = None) -> None:
        self.name = name
        self.args_ = dict(args)
        self.contract = contract
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args_.items())
        where = f"{contract} reverted" if contract else "reverted"
        super().__init__(f"{where}: {name}({shown})")

    @property
    def error_args(self) -> dict[str, object]:
        """The error's arguments by name."""
        return self.args_


class TransactionFailed(SdkError):
    """A transaction failed without decodable revert data (e.g. out of gas)."""

    def __init__(self, tx_hash: str, reason: str) -> None:
        self.tx_hash = tx_hash
        self.reason = reason
        super().__init__(f"transaction {tx_hash} failed: {reason}")


class DeploymentNotFound(SdkError):
    """No deployment record for a contract on a network."""

    def __init__(self, network: str, contract: str, path: str) -> None:
        self.network = network
        self.contract = contract
        self.path = path
        super().__init__(
            f"no deployment of {contract} on network {network!r} ({path}); run `passport deploy`"
        )


class DeploymentExists(SdkError):
    """A deployment record would be overwritten."""

    def __init__(self, network: str, path: str) -> None:
        self.network = network
        self.path = path
        super().__init__(f"network {network!r} already has a deployment at {path}; pass force to overwrite")


class DeploymentMismatch(SdkError):
    """A deployment record does not match the chain it is used with."""

    def __init__(self, network: str, reason: str) -> None:
        self.network = network
        self.reason = reason
        super().__init__(f"deployment {network!r} does not match the chain: {reason}")


class KeystoreError(SdkError):
    """A keystore file could not be read, decrypted or written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"keystore {path}: {reason}")


class PassportFileInvalid(SdkError):
    """A passport (or another of our files: a signed attestation, a status list …) is not valid
    JSON of the documented schema; ``kind`` names what it should have been."""

    def __init__(self, path: str, reason: str, kind: str = "passport file") -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path} is not a valid {kind}: {reason}")


class PolicyError(SdkError):
    """A policy is unknown or malformed."""

    def __init__(self, policy: str, reason: str) -> None:
        self.policy = policy
        self.reason = reason
        super().__init__(f"policy {policy!r}: {reason}")


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class NodeError(PassportError):
    """The node cannot start, or a data directory, genesis or config file is unusable."""


class TransactionRefused(NodeError):
    """The node refuses a transaction: it cannot be decoded, or fails the admission checks
    (signature, chain id, nonce, balance, intrinsic gas, Consortium permission, pool limits).
    JSON-RPC answers it with -32000 (go-ethereum's code); CometBFT's CheckTx with code 1."""


class RpcError(PassportError):
    """A JSON-RPC request failed; ``code`` and ``data`` go into the error response unchanged."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        super().__init__(message)


class ReplicaDiverged(NodeError):
    """A block from the followed node failed verification; the replica stops at its last good head."""

    def __init__(self, number: int, field: str, detail: str) -> None:
        self.number = number
        self.field = field
        self.detail = detail
        super().__init__(f"block {number} failed verification on {field}: {detail}")


class RecordError(PassportError):
    """A record, tier, disclosure, disclosure package or vault entry is malformed or does not verify."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


# ------------------------------------------------------------------ evidence, records, formats


class ProofError(PassportError):
    """A proof of a passport is missing, broken or inconsistent; ``what`` names the claim or proof."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


class EvidenceFormatError(PassportError, ValueError):
    """A passport's packed proofs are not base64, gzip, or the RLP lists they should be."""


class MerkleError(PassportError, ValueError):
    """A Merkle tree cannot be built, or a proof is malformed."""


class CredentialError(PassportError, ValueError):
    """A credential cannot be read at all (not a compact JWS, or not a VC)."""


# ------------------------------------------------------------------ control flow inside services


class ReadingRejected(PassportError):
    """The gateway refuses a device reading; ``reason`` is its machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class EvmTimeout(NodeError):
    """An eth_call or eth_estimateGas passed its wall-clock deadline (``rpc.evm_timeout_seconds``)."""
