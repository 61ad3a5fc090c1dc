"""Records as salted fields under an OpenZeppelin StandardMerkleTree root.

A record (member profile, facility record, batch documents) is a JSON object validated by its
JSON Schema (``passport/records/schemas/``). It is flattened into fields: nested objects become
dotted paths (``address.city``); arrays and file references (objects with a ``sha256``) stay one
field. Each field gets a 32-byte random salt and one leaf::

    keccak256(keccak256(abi.encode(string path, string value, bytes32 salt)))

where ``value`` is the field's RFC 8785 canonical JSON. That is OZ's ``standardLeafHash`` with
types ``["string", "string", "bytes32"]``, so Solidity can check a field with ``MerkleProof``.
The salt keeps a withheld field's leaf from being guessed from a short list of likely values.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

from passport._utils.merkle import StandardTree, standard_leaf_hash
from passport.exceptions import RecordError

Kind = Literal["member", "facility", "batch"]
KINDS: tuple[Kind, ...] = ("member", "facility", "batch")
LEAF_TYPES = ("string", "string", "bytes32")
SALT_BYTES = 32


def canonical(value: Any) -> str:
    """RFC 8785 (JCS) JSON of ``value``."""
    return rfc8785.dumps(value).decode()


def leaf_hash(path: str, value: Any, salt: bytes) -> bytes:
    return standard_leaf_hash(LEAF_TYPES, (path, canonical(value), salt))


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Fields of ``record`` by dotted path; arrays and file references are one field each."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and "sha256" not in value and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def unflatten(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in fields.items():
        node = out
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


@cache
def schema(kind: str) -> dict[str, Any]:
    text = resources.files("passport.records").joinpath(f"schemas/{kind}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(kind: str, record: Any) -> None:
    """Raises RecordError naming every field that breaks ``kind``'s JSON Schema."""
    if kind not in KINDS:
        raise RecordError(kind, f"unknown record kind (expected one of {', '.join(KINDS)})")
    from jsonschema import Draft202012Validator  # 60 ms; reading and verifying never validate

    validator = Draft202012Validator(schema(kind))
    errors = sorted(validator.iter_errors(record), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{'.'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in errors[:10]]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise RecordError(f"{kind} record", "; ".join(lines) + more)


class SaltedField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Any
    salt: str = Field(pattern=r"^0x[0-9a-f]{64}$")

    def leaf(self, path: str) -> bytes:
        return leaf_hash(path, self.value, bytes.fromhex(self.salt[2:]))


class SaltedRecord(BaseModel):
    """A record with its salts: what the vault keeps, and what disclosures are cut from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    subject: str
    fields: dict[str, SaltedField] = Field(min_length=1)

    def leaves(self) -> dict[str, bytes]:
        return {path: f.leaf(path) for path, f in self.fields.items()}

    def tree(self) -> StandardTree:
        return StandardTree(list(self.leaves().values()))

    @property
    def root(self) -> bytes:
        return self.tree().root

    def record(self) -> dict[str, Any]:
        return unflatten({p: f.value for p, f in self.fields.items()})


def salt_record(
    kind: Kind, subject: str, record: Mapping[str, Any], previous: SaltedRecord | None
) -> SaltedRecord:
    """``record`` validated and salted. A field whose value is unchanged since ``previous`` keeps
    its salt, so putting an unchanged record again gives the same root (and no transaction).

    Raises:
        RecordError: the record breaks its schema.
    """
    validate(kind, record)
    kept = previous.fields if previous is not None and previous.kind == kind else {}
    fields: dict[str, SaltedField] = {}
    for path, value in sorted(flatten(record).items()):
        old = kept.get(path)
        if old is not None and canonical(old.value) == canonical(value):
            fields[path] = old
        else:
            fields[path] = SaltedField(value=value, salt="0x" + secrets.token_bytes(SALT_BYTES).hex())
    return SaltedRecord(kind=kind, subject=subject, fields=fields)


@cache
def required_paths(kind: str) -> frozenset[str]:
    """Field paths every valid ``kind`` record has: the schema's required properties, followed
    into required objects (local ``$ref`` resolved), as ``flatten`` names them."""
    root = schema(kind)

    def resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            return resolve(target)
        return node

    def walk(node: Mapping[str, Any], prefix: str) -> set[str]:
        out: set[str] = set()
        properties = node.get("properties", {})
        for name in node.get("required", []):
            child = resolve(properties.get(name, {}))
            if child.get("type") == "object" and child.get("properties") and child.get("required"):
                out |= walk(child, f"{prefix}{name}.")
            elif child.get("type") != "object":
                out.add(f"{prefix}{name}")
        return out

    return frozenset(walk(root, ""))
