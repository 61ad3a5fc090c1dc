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
