"""Issuers' status lists, derived from the chain (see :mod:`passport.formats.untp.status` for
what each list holds and where it is published)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from eth_utils import to_checksum_address

from passport.core.events import decode, topic
from passport.core.types import BatchFlag, SubjectKind
from passport.exceptions import SdkError
from passport.formats import untp
from passport.formats.untp import status as lists
from passport.sdk.attestations import FLAG_REVOKED
from passport.sdk.client import Call
from passport.sdk.contracts import Contracts

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

DEFAULT_TTL = timedelta(days=1)


@dataclass(frozen=True)
class StatusListExport:
    """One published list: its name (``dpp-revocation`` …), URL, the bits set, and the vc+jwt."""

    name: str
    url: str
    indices: tuple[int, ...]
    content: bytes
    block: int


def certifier_attestations(contracts: Contracts, certifier: str, block: int) -> list[tuple[str, int, int]]:
    """(uid, schema id, subject) of ``certifier``'s attestations up to ``block``, in chain order:
    the position in this list is the attestation's index in the certifier's DCC lists."""
    logs = contracts.client.get_logs([contracts.registry.address], [topic("Attested")], block)
    out = []
    for log in logs:
        event = decode(log)
        if event is not None and to_checksum_address(event.args["certifier"]) == certifier:
            out.append((str(event.args["uid"]), int(event.args["schemaId"]), int(event.args["subject"])))
    return out


def dcc_index(contracts: Contracts, uid: str, certifier: str, block: int) -> int:
    """Attestation ``uid``'s bit in its certifier's DCC lists.

    Raises:
        SdkError: ``certifier`` made no such attestation by ``block``.
    """
    made = [a[0] for a in certifier_attestations(contracts, certifier, block)]
    if uid not in made:
        raise SdkError(f"attestation {uid} is not {certifier}'s by block {block}")
    return made.index(uid)


def status_bits(contracts: Contracts, issuer: str, block: int) -> dict[str, set[int]]:
    """The bits of ``issuer``'s four lists at ``block``, by list name (``dpp-revocation`` …)."""
    client = contracts.client
    count = int(client.call(Call(contracts.passport, "batchCount"), block))
    batches = client.batch([Call(contracts.passport, "batch", (i,)) for i in range(1, count + 1)], block)
    flags = {i: BatchFlag(int(b[2])) for i, b in enumerate(batches, start=1)}
    facility_of = {i: int(b[4]) for i, b in enumerate(batches, start=1)}
    attested = certifier_attestations(contracts, issuer, block)
    schemas = sorted({schema for _uid, schema, _subject in attested})
    described = client.batch([Call(contracts.registry, "schema", (s,)) for s in schemas], block)
    kinds = {s: SubjectKind(int(d[2])) for s, d in zip(schemas, described, strict=True)}
    facilities = sorted(
        set(facility_of.values())
        | {subject for _uid, schema, subject in attested if kinds[schema] == SubjectKind.FACILITY}
    )
    flagged = dict(
        zip(
            facilities,
            client.batch([Call(contracts.consortium, "isFacilityFlagged", (f,)) for f in facilities], block),
            strict=True,
        )
    )
    uids = [bytes.fromhex(uid[2:]) for uid, _s, _t in attested]
    records = client.batch([Call(contracts.registry, "attestation", (u,)) for u in uids], block)
    bits: dict[str, set[int]] = {f"{k}-{p}": set() for k in lists.KINDS for p in lists.PURPOSES}
    for batch_id, f in flags.items():
        if f & BatchFlag.TAINTED:
            bits["dpp-revocation"].add(batch_id)
        if f & BatchFlag.FROZEN or flagged[facility_of[batch_id]]:
            bits["dpp-suspension"].add(batch_id)
    for index, ((_uid, schema, subject), record) in enumerate(zip(attested, records, strict=True)):
        if int(record[2]) & FLAG_REVOKED:
            bits["dcc-revocation"].add(index)
        kind = kinds[schema]
        if (kind == SubjectKind.FACILITY and flagged.get(subject)) or (
            kind == SubjectKind.BATCH and subject in flags and flags[subject] & BatchFlag.FROZEN
        ):
            bits["dcc-suspension"].add(index)
    return bits


def publish_status(
    contracts: Contracts,
    signer: LocalAccount,
    base_url: str,
    ttl: timedelta = DEFAULT_TTL,
    did_web: str | None = None,
    block: int | None = None,
    now: datetime | None = None,
) -> list[StatusListExport]:
    """``signer``'s four status lists as signed ``vc+jwt`` credentials, derived from the chain at
    ``block`` (the head when None), valid from ``now`` for ``ttl``; their ids are under
    ``base_url``, where they are to be published (``passport serve --published``).

    Raises:
        SdkError: a base URL that is not http(s), or a ttl that is not positive.
    """
    _check_base(base_url)
    if ttl <= timedelta(0):
        raise SdkError("a status list's ttl must be positive")
    client = contracts.client
    if block is None:
        block = client.head()[0]
    block_hash = client.block_hash(block)
    issuer = {"id": untp.issuer_id(client.chain_id, signer.address, did_web)}
    moment = (now or datetime.now(tz=UTC)).replace(microsecond=0)
    out = []
    for name, indices in status_bits(contracts, signer.address, block).items():
        kind, purpose = name.split("-")
        url = lists.list_url(base_url, client.chain_id, signer.address, kind, purpose)
        credential = lists.status_list_credential(
            url, issuer, purpose, indices, client.chain_id, block, block_hash, moment, ttl
        )
        token = untp.sign(credential, signer.key)
        out.append(StatusListExport(name, url, tuple(sorted(indices)), (token + "\n").encode(), block))
    return out


def status_for(
    contracts: Contracts, base_url: str | None, kind: str, issuer: str, index: int
) -> list[dict[str, object]] | None:
    """The ``credentialStatus`` of a credential of ``kind`` at bit ``index`` of ``issuer``'s lists
    under ``base_url`` (None: no lists, no entries)."""
    if base_url is None:
        return None
    _check_base(base_url)
    return lists.status_entries(base_url, contracts.client.chain_id, issuer, kind, index)


def _check_base(base_url: str) -> None:
    if not base_url.startswith(("https://", "http://")):
        raise SdkError(f"the status lists' base URL must be http(s): {base_url!r}")


__all__ = ["DEFAULT_TTL", "StatusListExport", "dcc_index", "publish_status", "status_bits", "status_for"]
