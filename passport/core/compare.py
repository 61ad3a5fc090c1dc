"""Field-by-field comparison of a passport with its re-derivation, and what every check of the
SDK reports: ``ok``, and each :class:`Failure` (where, and why)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Failure:
    """A claim, proof or rule that does not hold: where, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class Checked(Protocol):
    """The one shape of a check's result: a re-verification online (``VerificationReport``), an
    offline report (``OfflineReport``), a policy check (``PolicyResult``)."""

    @property
    def ok(self) -> bool: ...

    @property
    def failures(self) -> list[Failure]: ...


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A field whose value in the file differs from the chain's."""

    path: str
    in_file: Any
    on_chain: Any

    def __str__(self) -> str:
        return str(self.failure())

    def failure(self) -> Failure:
        return Failure(self.path, f"file has {self.in_file!r}, chain has {self.on_chain!r}")


def diff(a: Any, b: Any, path: str = "") -> list[Mismatch]:
    """Every leaf where ``a`` (the file) and ``b`` (the chain) differ, by its JSON path."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[Mismatch] = []
        for key in sorted(set(a) | set(b)):
            out += diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for n in range(max(len(a), len(b))):
            out += diff(a[n] if n < len(a) else None, b[n] if n < len(b) else None, f"{path}[{n}]")
        return out
    if a != b or type(a) is not type(b):
        return [Mismatch(path, a, b)]
    return []
