"""Credential status (W3C Bitstring Status List v1.0): the ``credentialStatus`` entries a DPP or
DCC carries, the issuer's status list credentials (``vc+jwt``, same issuer DID), and the check a
verifier runs with the lists it is given.

An issuer keeps four lists, each a ``BitstringStatusListCredential`` at
``<base>/status/<chainId>/<issuer address>/<kind>-<purpose>``:

- ``dpp-revocation``: bit = batch id; set when the batch is tainted on chain (for good);
- ``dpp-suspension``: bit = batch id; set while the batch is frozen or its facility flagged;
- ``dcc-revocation``: bit = the attestation's position among its certifier's ``Attested``
  events; set when the attestation is revoked on chain;
- ``dcc-suspension``: same index; set while the attested batch is frozen or the attested
  facility is flagged.

A list is derived from the chain at one block, which it names in its evidence (number and hash),
with ``validFrom`` when it was published and ``validUntil`` after its ``ttl``.
"""

from __future__ import annotations

import base64
import gzip
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from passport.core.compare import Failure
from passport.exceptions import CredentialError
from passport.formats.untp.jose import address_of, read

CONTEXT = ["https://www.w3.org/ns/credentials/v2"]
LIST_TYPE = ["VerifiableCredential", "BitstringStatusListCredential"]
ENTRY_TYPE = "BitstringStatusListEntry"
PURPOSES = ("revocation", "suspension")
KINDS = ("dpp", "dcc")
MIN_BITS = 16 * 1024 * 8  # the spec's minimum list length, for herd privacy
MAX_BYTES = 16 * 1024 * 1024  # a list that inflates beyond this is refused (a gzip bomb)
SKEW = timedelta(minutes=5)  # clocks may differ this much between issuer and verifier
LIST_NAME = re.compile(
    r"/status/(?P<chain>[0-9]+)/(?P<issuer>0x[0-9a-fA-F]{40})/(?P<kind>dpp|dcc)-(?P<purpose>[a-z]+)$"
)


def list_url(base: str, chain_id: int, issuer: str, kind: str, purpose: str) -> str:
    """Where issuer ``issuer``'s ``kind``-``purpose`` list is published under ``base``."""
    return f"{base.rstrip('/')}/status/{chain_id}/{issuer}/{kind}-{purpose}"


def status_entries(base: str, chain_id: int, issuer: str, kind: str, index: int) -> list[dict[str, Any]]:
    """A credential's ``credentialStatus``: its bit ``index`` in the issuer's two lists of ``kind``."""
    if kind not in KINDS:
        raise CredentialError(f"status lists are kept for {' and '.join(KINDS)}, not {kind!r}")
    out = []
    for purpose in PURPOSES:
        url = list_url(base, chain_id, issuer, kind, purpose)
        out.append(
            {
                "id": f"{url}#{index}",
                "type": ENTRY_TYPE,
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": url,
            }
        )
    return out


def encode_list(indices: Iterable[int], bits: int = MIN_BITS) -> str:
    """The ``encodedList`` of a list with ``indices`` set: multibase base64url (``u``, no padding)
    of the GZIP of the bitstring, index 0 the first byte's most significant bit; at least
    :data:`MIN_BITS` long, longer in whole bytes when an index needs it."""
    chosen = sorted(set(indices))
    if chosen and chosen[0] < 0:
        raise CredentialError(f"a status list index is not negative: {chosen[0]}")
    size = max(bits, ((chosen[-1] // 8) + 1) * 8 if chosen else 0) // 8
    raw = bytearray(size)
    for i in chosen:
        raw[i // 8] |= 0x80 >> (i % 8)
    packed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def decode_list(encoded: object) -> bytes:
    """The bitstring of an ``encodedList``.

    Raises:
        CredentialError: not multibase base64url, not GZIP, shorter than the spec's minimum, or
            inflating beyond :data:`MAX_BYTES`.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise CredentialError("not multibase base64url (it must start with 'u')")
    body = encoded[1:]
    if not re.fullmatch(r"[A-Za-z0-9_-]*", body) or len(body) % 4 == 1:
        raise CredentialError("not base64url")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # GZIP framing
        raw = inflater.decompress(packed, MAX_BYTES + 1)
    except (ValueError, zlib.error) as exc:
        raise CredentialError(f"not a GZIP-compressed bitstring ({exc})") from exc
    if len(raw) > MAX_BYTES:
        raise CredentialError(f"it inflates beyond {MAX_BYTES} bytes")
    if not inflater.eof:
        raise CredentialError("the GZIP stream is truncated")
    if inflater.unused_data:
        raise CredentialError(f"{len(inflater.unused_data)} byte(s) after the GZIP stream")
    if len(raw) * 8 < MIN_BITS:
        raise CredentialError(f"{len(raw) * 8} bits, fewer than the spec's minimum {MIN_BITS}")
    return raw


def bit(bitstring: bytes, index: int) -> bool:
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date-time")
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def status_list_credential(
    url: str,
    issuer: dict[str, Any],
    purpose: str,
    indices: Iterable[int],
    chain_id: int,
    block: int,
    block_hash: str,
    published: datetime,
    ttl: timedelta,
) -> dict[str, Any]:
    """Issuer ``issuer``'s list at ``url`` for ``purpose``, derived from the chain at ``block``
    (``block_hash``), valid from ``published`` for ``ttl``."""
    if purpose not in PURPOSES:
        raise CredentialError(f"status purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
    return {
        "@context": CONTEXT,
        "id": url,
        "type": LIST_TYPE,
        "issuer": issuer,
        "validFrom": _time(published),
        "validUntil": _time(published + ttl),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(indices),
            "ttl": int(ttl.total_seconds() * 1000),
        },
        "evidence": [
            {
                "type": EVIDENCE_TYPE,
                "id": evidence_id(chain_id, block, block_hash),
                "chainId": chain_id,
                "blockNumber": block,
                "blockHash": block_hash,
            }
        ],
    }


EVIDENCE_TYPE = ["Evidence", "MineralPassportChainState"]


def evidence_id(chain_id: int, block: int, block_hash: str) -> str:
    """The id of the chain state a list was derived from: its chain, block number and hash."""
    return f"urn:mineral-passport:block:{chain_id}:{block}:{block_hash}"


@dataclass(frozen=True)
class StatusList:
    """A status list credential read and its signature checked (not yet against a credential)."""

    token: str
    credential: dict[str, Any]
    signer: str  # the address of the key that signed it

    @classmethod
    def read(cls, token: str) -> StatusList:
        """Raises: CredentialError: not a signed vc+jwt."""
        header, credential = read(token)
        return cls(token.strip(), credential, address_of(header["jwk"]))

    @property
    def id(self) -> str:
        return str(self.credential.get("id", ""))


@dataclass(frozen=True)
class StatusFinding:
    purpose: str
    index: int
    set: bool
    block: int
    list_id: str
    valid_until: str

    def __str__(self) -> str:
        state = {"revocation": "revoked", "suspension": "suspended"}[self.purpose]
        if self.set:
            return f"{state} at block {self.block} (status list {self.list_id})"
        return f"not {state} at block {self.block} (status list valid until {self.valid_until})"


@dataclass
class StatusCheck:
    """What a credential's status lists say: one finding per entry checked, and each failure."""

    findings: list[StatusFinding] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # entries with no list given

    @property
    def ok(self) -> bool:
        return not self.failures


def entries_of(credential: dict[str, Any]) -> list[dict[str, Any]]:
    status = credential.get("credentialStatus")
    if status is None:
        return []
    return status if isinstance(status, list) else [status]


def check_entries(
    credential: dict[str, Any], chain_id: int, issuer: str, kind: str, index: int | None
) -> list[Failure]:
    """The credential's ``credentialStatus`` as an issuer of ours writes it: both purposes, in the
    issuer's lists of ``kind`` on this chain, at bit ``index`` when the verifier knows it (a DPP:
    its batch id); the same index in both. None at all is allowed (credentials issued before
    status lists, or without a status URL)."""
    entries = entries_of(credential)
    if not entries:
        return []
    where = "credential.credentialStatus"
    failures: list[Failure] = []
    purposes = []
    indices = set()
    for n, e in enumerate(entries):
        at = f"{where}[{n}]"
        if not isinstance(e, dict):
            failures.append(Failure(at, "not an object"))
            continue
        purpose, url = e.get("statusPurpose"), str(e.get("statusListCredential", ""))
        purposes.append(purpose)
        if e.get("type") != ENTRY_TYPE:
            failures.append(Failure(f"{at}.type", f"{e.get('type')!r}, not {ENTRY_TYPE}"))
        raw_index = e.get("statusListIndex")
        if not isinstance(raw_index, str) or not raw_index.isdigit():
            failures.append(Failure(f"{at}.statusListIndex", f"{raw_index!r} is not a decimal index"))
            continue
        indices.add(int(raw_index))
        if index is not None and int(raw_index) != index:
            failures.append(Failure(f"{at}.statusListIndex", f"{raw_index}, the {kind}'s index is {index}"))
        match = LIST_NAME.search(url)
        expected = f"/status/{chain_id}/{issuer}/{kind}-{purpose}"
        if match is None or not url.endswith(expected):
            failures.append(Failure(f"{at}.statusListCredential", f"{url!r} is not the issuer's {expected}"))
        if e.get("id") != f"{url}#{raw_index}":
            failures.append(Failure(f"{at}.id", f"{e.get('id')!r}, not {url}#{raw_index}"))
    if sorted(p for p in purposes if isinstance(p, str)) != sorted(PURPOSES):
        failures.append(Failure(where, f"purposes {purposes!r}, not one entry each of {', '.join(PURPOSES)}"))
    if len(indices) > 1:
        failures.append(Failure(where, f"different indices {sorted(indices)} in the {kind}'s lists"))
    return failures


def check_status(
    credential: dict[str, Any],
    signer: str,
    lists: Sequence[StatusList],
    chain_id: int,
    since_block: int,
    now: datetime | None = None,
) -> StatusCheck:
    """Check ``credential``'s entries against the ``lists`` given: each list is the one the entry
    names, signed by the credential's signer ``signer`` as the same issuer DID, current at ``now``
    (``validFrom``/``validUntil``, give or take :data:`SKEW`), of this chain, derived no earlier
    than the credential's block ``since_block``, and well encoded; then its bit. A list given that
    no entry names is a failure too (the wrong file was given)."""
    moment = now or datetime.now(tz=UTC)
    out = StatusCheck()
    by_id = {s.id: s for s in lists}
    named = set()
    issuer_id = (credential.get("issuer") or {}).get("id")
    for e in entries_of(credential):
        if not isinstance(e, dict):
            continue
        url, purpose = str(e.get("statusListCredential", "")), str(e.get("statusPurpose", ""))
        index = int(e["statusListIndex"]) if str(e.get("statusListIndex", "")).isdigit() else None
        given = by_id.get(url)
        if given is None or index is None:
            out.unchecked.append(url)
            continue
        named.add(url)
        failures = _check_list(given, url, purpose, issuer_id, signer, chain_id, since_block, moment)
        if failures:
            out.failures += failures
            continue
        subject = given.credential["credentialSubject"]
        bitstring = decode_list(subject["encodedList"])
        if index >= len(bitstring) * 8:
            out.failures.append(
                Failure(f"status list {url}", f"index {index} is beyond its {len(bitstring) * 8} bits")
            )
            continue
        block = int(given.credential["evidence"][0]["blockNumber"])
        until = given.credential["validUntil"]
        finding = StatusFinding(purpose, index, bit(bitstring, index), block, url, until)
        out.findings.append(finding)
        if finding.set:
            out.failures.append(Failure("credential.credentialStatus", str(finding)))
    for s in lists:
        if s.id not in named and s.id not in out.unchecked:
            named_by = "the credential names no such status list"
            out.failures.append(Failure(f"status list {s.id or '?'}", named_by))
    return out


def _check_list(
    given: StatusList,
    url: str,
    purpose: str,
    issuer_id: Any,
    signer: str,
    chain_id: int,
    since_block: int,
    now: datetime,
) -> list[Failure]:
    """Why the list ``given`` cannot speak for the entry (``url``, ``purpose``): each reason."""
    vc, at = given.credential, f"status list {url}"
    failures: list[Failure] = []

    def fail(what: str, reason: str) -> None:
        failures.append(Failure(f"{at}: {what}", reason))

    if given.signer != signer:
        fail("signature", f"signed by {given.signer}, the credential's issuer is {signer}")
    if (vc.get("issuer") or {}).get("id") != issuer_id:
        fail("issuer", f"{(vc.get('issuer') or {}).get('id')!r}, not {issuer_id!r}")
    if vc.get("type") != LIST_TYPE:
        fail("type", f"{vc.get('type')!r}, not {LIST_TYPE}")
    if vc.get("@context") != CONTEXT:
        fail("@context", f"{vc.get('@context')!r}, not {CONTEXT}")
    subject = vc.get("credentialSubject")
    if not isinstance(subject, dict):
        fail("credentialSubject", "not an object")
        return failures
    if subject.get("type") != "BitstringStatusList":
        fail("credentialSubject.type", f"{subject.get('type')!r}, not BitstringStatusList")
    if subject.get("id") != f"{url}#list":
        fail("credentialSubject.id", f"{subject.get('id')!r}, not {url}#list")
    if subject.get("statusPurpose") != purpose:
        stated = subject.get("statusPurpose")
        fail("credentialSubject.statusPurpose", f"{stated!r}, the entry's is {purpose!r}")
    try:
        decode_list(subject.get("encodedList"))
    except CredentialError as exc:
        fail("credentialSubject.encodedList", str(exc))
    try:
        start, end = _parse_time(vc.get("validFrom")), _parse_time(vc.get("validUntil"))
        ttl = subject.get("ttl")
        if not isinstance(ttl, int) or ttl <= 0:
            fail("credentialSubject.ttl", f"{ttl!r} is not a positive number of ms")
        elif end - start != timedelta(milliseconds=ttl):
            fail(
                "validFrom/validUntil/ttl", f"validUntil {vc['validUntil']} is not validFrom + ttl ({ttl} ms)"
            )
        if now + SKEW < start:
            fail("validFrom", f"{vc['validFrom']} is in the future")
        if now - SKEW > end:
            fail("validUntil", f"expired at {vc['validUntil']}: fetch a fresh list")
    except ValueError as exc:
        fail("validFrom/validUntil", str(exc))
    try:
        evidence = vc["evidence"][0]
        block, block_hash = int(evidence["blockNumber"]), str(evidence["blockHash"])
        if int(evidence["chainId"]) != chain_id:
            fail("evidence.chainId", f"{evidence['chainId']}, the trust anchor's is {chain_id}")
        if evidence.get("type") != EVIDENCE_TYPE:
            fail("evidence.type", f"{evidence.get('type')!r}, not {EVIDENCE_TYPE}")
        if evidence.get("id") != evidence_id(int(evidence["chainId"]), block, block_hash):
            fail(
                "evidence.id", f"{evidence.get('id')!r} does not name its chainId, blockNumber and blockHash"
            )
        if block < since_block:
            fail("evidence.blockNumber", f"derived at block {block}, before the credential's, {since_block}")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        fail("evidence", f"no chain block it was derived at ({exc})")
    return failures
