"""CometBFT light-client verification, offline: was a header committed by more than 2/3 of its
validator set's voting power, and does a trusted validator set (a trust anchor's) vouch for it.

It follows CometBFT v0.38 (``types/validation.go``, ``types/block.go``, ``light/verifier.go``):

- a header's hash is the RFC 6962 Merkle root of its 14 fields, each protobuf-encoded as
  ``Header.Hash`` encodes it; a validator set's hash is the root over its validators'
  ``SimpleValidator`` encodings, in the set's order;
- a commit signature signs the length-prefixed ``CanonicalVote`` (precommit, height, round,
  block id, the signature's own time, the chain id); ed25519 through ``cryptography``;
- ``verify_commit`` is ``VerifyCommitLightAllSignatures`` (signatures by index, every one
  checked, more than 2/3 of the power); ``verify_commit_trusting`` is
  ``VerifyCommitLightTrustingAllSignatures`` (signatures by address, a double vote refused,
  more than 1/3 of the trusted set's power);
- ``verify`` is ``light.Verify``: ``VerifyAdjacent`` for the next height (its validators are
  the trusted header's next validators), ``VerifyNonAdjacent`` otherwise, each after the
  trusting period and clock-drift checks and the untrusted header's basic validation.

Everything is read from CometBFT's own JSON-RPC shapes (``/commit``'s ``signed_header`` and
``/validators``' list), so evidence holds what any CometBFT node serves. Signatures are checked
with OpenSSL's RFC 8032 verification; CometBFT's (ZIP 215) accepts a few more non-canonical
encodings, which an honest validator never produces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import timestamp_pb2, wrappers_pb2

from passport._proto.tendermint.crypto import keys_pb2
from passport._proto.tendermint.types import canonical_pb2, types_pb2, validator_pb2
from passport._proto.tendermint.version import types_pb2 as version_pb2
from passport.exceptions import ProofError

BLOCK_PROTOCOL = 11  # CometBFT v0.38's version.BlockProtocol
TRUST_NUMERATOR, TRUST_DENOMINATOR = 1, 3  # light.DefaultTrustLevel
MAX_CLOCK_DRIFT_SECONDS = 10  # the light client's default
FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL = 1, 2, 3
ED25519_TYPE = "tendermint/PubKeyEd25519"
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$")


# ------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True, order=True)
class Time:
    """A CometBFT time: seconds and nanoseconds since the epoch, UTC."""

    seconds: int
    nanos: int = 0

    @classmethod
    def parse(cls, text: Any, what: str) -> Time:
        match = _TIME.match(text) if isinstance(text, str) else None
        if match is None:
            raise ProofError(what, f"not an RFC 3339 UTC time: {text!r}")
        try:
            moment = dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC)
        except ValueError as exc:
            raise ProofError(what, f"not a time ({exc})") from exc
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        seconds = (moment - epoch) // dt.timedelta(seconds=1)
        return cls(seconds, int((match.group(2) or "0").ljust(9, "0")))

    def __str__(self) -> str:
        moment = dt.datetime.fromtimestamp(self.seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{moment}.{self.nanos:09d}Z"

    def proto(self) -> timestamp_pb2.Timestamp:
        return timestamp_pb2.Timestamp(seconds=self.seconds, nanos=self.nanos)


@dataclass(frozen=True, slots=True)
class Validator:
    address: bytes
    pub_key: bytes
    power: int

    def encode(self) -> bytes:
        """``Validator.Bytes()``: the ``SimpleValidator`` the set's hash is made of."""
        simple = validator_pb2.SimpleValidator(
            pub_key=keys_pb2.PublicKey(ed25519=self.pub_key), voting_power=self.power
        )
        return bytes(simple.SerializeToString(deterministic=True))


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    validators: tuple[Validator, ...]

    @property
    def total_power(self) -> int:
        return sum(v.power for v in self.validators)

    def hash(self) -> bytes:
        return merkle_root([v.encode() for v in self.validators])

    def by_address(self, address: bytes) -> tuple[int, Validator] | None:
        for index, validator in enumerate(self.validators):
            if validator.address == address:
                return index, validator
        return None


@dataclass(frozen=True, slots=True)
class BlockId:
    hash: bytes
    parts_total: int
    parts_hash: bytes

    def is_zero(self) -> bool:
        return not self.hash and self.parts_total == 0 and not self.parts_hash

    def proto(self) -> types_pb2.BlockID:
        block_id = types_pb2.BlockID(hash=self.hash)
        block_id.part_set_header.SetInParent()  # gogoproto non-nullable: always encoded
        block_id.part_set_header.total = self.parts_total
        block_id.part_set_header.hash = self.parts_hash
        return block_id


@dataclass(frozen=True, slots=True)
class CommitSig:
    flag: int
    address: bytes
    time: Time
    signature: bytes


@dataclass(frozen=True, slots=True)
class Commit:
    height: int
    round: int
    block_id: BlockId
    signatures: tuple[CommitSig, ...]


@dataclass(frozen=True, slots=True)
class Header:
    version_block: int
    version_app: int
    chain_id: str
    height: int
    time: Time
    last_block_id: BlockId
    last_commit_hash: bytes
    data_hash: bytes
    validators_hash: bytes
    next_validators_hash: bytes
    consensus_hash: bytes
    app_hash: bytes
    last_results_hash: bytes
    evidence_hash: bytes
    proposer_address: bytes

    def hash(self) -> bytes:
        """``Header.Hash()``: the Merkle root over the 14 encoded fields."""
        version = version_pb2.Consensus(block=self.version_block, app=self.version_app)

        def wrapped(value: bytes) -> bytes:
            return bytes(wrappers_pb2.BytesValue(value=value).SerializeToString(deterministic=True))

        return merkle_root(
            [
                version.SerializeToString(deterministic=True),
                wrappers_pb2.StringValue(value=self.chain_id).SerializeToString(deterministic=True),
                wrappers_pb2.Int64Value(value=self.height).SerializeToString(deterministic=True),
                self.time.proto().SerializeToString(deterministic=True),
                self.last_block_id.proto().SerializeToString(deterministic=True),
                wrapped(self.last_commit_hash),
                wrapped(self.data_hash),
                wrapped(self.validators_hash),
                wrapped(self.next_validators_hash),
                wrapped(self.consensus_hash),
                wrapped(self.app_hash),
                wrapped(self.last_results_hash),
                wrapped(self.evidence_hash),
                wrapped(self.proposer_address),
            ]
        )


@dataclass(frozen=True, slots=True)
class LightBlock:
    """A signed header (header and commit) and the validator set that signed it."""

    header: Header
    commit: Commit
    validators: ValidatorSet

    @property
    def height(self) -> int:
        return self.header.height


@dataclass(frozen=True)
class Tally:
    """Who signed a commit, by verified signature, and their share of the set's power."""

    signers: tuple[Validator, ...]
    signed_power: int
    total_power: int
    set_size: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return 100.0 * self.signed_power / self.total_power if self.total_power else 0.0


# ------------------------------------------------------------------ encoding


def merkle_root(items: Sequence[bytes]) -> bytes:
    """``merkle.HashFromByteSlices`` (RFC 6962: leaves ``sha256(0x00 || item)``, inner nodes
    ``sha256(0x01 || left || right)``, split at the largest power of two below the count)."""
    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    split = 1 << ((len(items) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + merkle_root(items[:split]) + merkle_root(items[split:])).digest()


def vote_sign_bytes(chain_id: str, commit: Commit, index: int) -> bytes:
    """``Commit.VoteSignBytes``: the length-prefixed ``CanonicalVote`` validator ``index``
    signed (a nil vote carries no block id)."""
    sig = commit.signatures[index]
    vote = canonical_pb2.CanonicalVote(
        type=types_pb2.SIGNED_MSG_TYPE_PRECOMMIT, height=commit.height, round=commit.round, chain_id=chain_id
    )
    if sig.flag == FLAG_COMMIT and not commit.block_id.is_zero():
        vote.block_id.hash = commit.block_id.hash
        vote.block_id.part_set_header.SetInParent()
        vote.block_id.part_set_header.total = commit.block_id.parts_total
        vote.block_id.part_set_header.hash = commit.block_id.parts_hash
    vote.timestamp.CopyFrom(sig.time.proto())
    body = bytes(vote.SerializeToString(deterministic=True))
    return _uvarint(len(body)) + body


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# ------------------------------------------------------------------ reading RPC JSON


def _hex(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or (value and not re.fullmatch(r"[0-9A-Fa-f]*", value)) or len(value) % 2:
        raise ProofError(what, f"not hex: {value!r}")
    raw = bytes.fromhex(value)
    if size is not None and raw and len(raw) != size:
        raise ProofError(what, f"{len(raw)} bytes (expected {size})")
    return raw


def _b64(value: Any, what: str) -> bytes:
    import base64
    import binascii

    if not isinstance(value, str):
        raise ProofError(what, "not base64")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ProofError(what, f"not base64 ({exc})") from exc


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ProofError(what, f"not an integer: {value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise ProofError(what, f"not an integer: {value!r}") from exc
    if not -(2**63) <= number < 2**63:
        raise ProofError(what, "out of the int64 range")
    return number


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProofError(what, "not an object")
    return value


def _block_id(data: Any, what: str) -> BlockId:
    data = _obj(data, what)
    parts = _obj(data.get("parts", {}), f"{what}.parts")
    return BlockId(
        _hex(data.get("hash", ""), f"{what}.hash", 32),
        _int(parts.get("total", 0), f"{what}.parts.total"),
        _hex(parts.get("hash", ""), f"{what}.parts.hash", 32),
    )


def read_header(data: Any, what: str) -> Header:
    h = _obj(data, what)
    version = _obj(h.get("version", {}), f"{what}.version")
    if not isinstance(h.get("chain_id"), str):
        raise ProofError(f"{what}.chain_id", "not a string")
    return Header(
        version_block=_int(version.get("block", 0), f"{what}.version.block"),
        version_app=_int(version.get("app", 0), f"{what}.version.app"),
        chain_id=h["chain_id"],
        height=_int(h.get("height"), f"{what}.height"),
        time=Time.parse(h.get("time"), f"{what}.time"),
        last_block_id=_block_id(h.get("last_block_id", {}), f"{what}.last_block_id"),
        **{
            name: _hex(h.get(name, ""), f"{what}.{name}", 32)
            for name in (
                "last_commit_hash",
                "data_hash",
                "validators_hash",
                "next_validators_hash",
                "consensus_hash",
                "last_results_hash",
                "evidence_hash",
            )
        },
        app_hash=_hex(h.get("app_hash", ""), f"{what}.app_hash"),
        proposer_address=_hex(h.get("proposer_address", ""), f"{what}.proposer_address", 20),
    )


def read_commit(data: Any, what: str) -> Commit:
    c = _obj(data, what)
    signatures = c.get("signatures")
    if not isinstance(signatures, list):
        raise ProofError(f"{what}.signatures", "not a list")
    sigs = []
    for n, s in enumerate(signatures):
        w = f"{what}.signatures[{n}]"
        sig = _obj(s, w)
        flag = _int(sig.get("block_id_flag"), f"{w}.block_id_flag")
        if flag not in (FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL):
            raise ProofError(f"{w}.block_id_flag", f"unknown flag {flag}")
        signature = sig.get("signature")
        sigs.append(
            CommitSig(
                flag,
                _hex(sig.get("validator_address", ""), f"{w}.validator_address", 20),
                Time.parse(sig.get("timestamp"), f"{w}.timestamp"),
                b"" if signature is None else _b64(signature, f"{w}.signature"),
            )
        )
    return Commit(
        height=_int(c.get("height"), f"{what}.height"),
        round=_int(c.get("round", 0), f"{what}.round"),
        block_id=_block_id(c.get("block_id", {}), f"{what}.block_id"),
        signatures=tuple(sigs),
    )


def read_validators(data: Any, what: str) -> ValidatorSet:
    """A validator set as ``/validators`` lists it (in the set's order)."""
    if not isinstance(data, list) or not data:
        raise ProofError(what, "not a non-empty list of validators")
    out = []
    for n, v in enumerate(data):
        w = f"{what}[{n}]"
        item = _obj(v, w)
        key = _obj(item.get("pub_key"), f"{w}.pub_key")
        if key.get("type") != ED25519_TYPE:
            raise ProofError(f"{w}.pub_key", f"not an ed25519 key ({key.get('type')!r})")
        pub_key = _b64(key.get("value"), f"{w}.pub_key")
        if len(pub_key) != 32:
            raise ProofError(f"{w}.pub_key", f"{len(pub_key)} bytes (ed25519 keys have 32)")
        address = _hex(item.get("address", ""), f"{w}.address", 20)
        if address != comet_address(pub_key):
            raise ProofError(f"{w}.address", "is not the address of its key")
        power = _int(item.get("voting_power"), f"{w}.voting_power")
        if power <= 0:
            raise ProofError(f"{w}.voting_power", "not positive")
        out.append(Validator(address, pub_key, power))
    return ValidatorSet(tuple(out))


def read_light_block(data: Any, what: str) -> LightBlock:
    """``{"signed_header": {"header", "commit"}, "validator_set": {"validators": [...]}}``."""
    d = _obj(data, what)
    signed = _obj(d.get("signed_header"), f"{what}.signed_header")
    validator_set = _obj(d.get("validator_set"), f"{what}.validator_set")
    return LightBlock(
        read_header(signed.get("header"), f"{what}.header"),
        read_commit(signed.get("commit"), f"{what}.commit"),
        read_validators(validator_set.get("validators"), f"{what}.validators"),
    )


def comet_address(pub_key: bytes) -> bytes:
    """An ed25519 validator's address: the first 20 bytes of the SHA-256 of its key."""
    return hashlib.sha256(pub_key).digest()[:20]


# ------------------------------------------------------------------ verification


def validate_signed_header(block: LightBlock, chain_id: str, what: str) -> None:
    """``SignedHeader.ValidateBasic``: the header and commit are well formed and the commit is
    for this header of this chain."""
    h, c = block.header, block.commit
    if h.version_block != BLOCK_PROTOCOL:
        raise ProofError(
            f"{what}.header", f"block protocol {h.version_block}, CometBFT v0.38 has {BLOCK_PROTOCOL}"
        )
    if h.chain_id != chain_id:
        raise ProofError(
            f"{what}.header.chain_id", f"{h.chain_id!r}, the trust anchor's chain is {chain_id!r}"
        )
    if h.height <= 0:
        raise ProofError(f"{what}.header.height", "not positive")
    if len(h.validators_hash) != 32:
        raise ProofError(f"{what}.header.validators_hash", "missing")
    if c.height != h.height:
        raise ProofError(f"{what}.commit.height", f"{c.height}, the header's height is {h.height}")
    if c.round < 0:
        raise ProofError(f"{what}.commit.round", "negative")
    if c.block_id.is_zero():
        raise ProofError(f"{what}.commit.block_id", "a commit for no block")
    if c.block_id.hash != h.hash():
        raise ProofError(
            f"{what}.header",
            f"hashes to {h.hash().hex().upper()}, the commit is for {c.block_id.hash.hex().upper()}",
        )
    if not c.signatures:
        raise ProofError(f"{what}.commit.signatures", "none")


def _verify_signature(validator: Validator, message: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(validator.pub_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_commit(chain_id: str, vals: ValidatorSet, block: LightBlock, what: str) -> Tally:
    """``VerifyCommitLightAllSignatures``: the commit's signatures, matched to ``vals`` by
    index, are all valid, and those for the block carry more than 2/3 of the power."""
    commit = block.commit
    if len(vals.validators) != len(commit.signatures):
        raise ProofError(
            f"{what}.commit",
            f"{len(commit.signatures)} signatures for a set of {len(vals.validators)} validators",
        )
    needed = vals.total_power * 2 // 3
    tallied, signers = 0, []
    for index, sig in enumerate(commit.signatures):
        if sig.flag != FLAG_COMMIT:
            continue
        validator = vals.validators[index]
        if validator.address != sig.address:
            raise ProofError(
                f"{what}.commit.signatures[{index}]",
                f"from {sig.address.hex().upper()}, but validator {index} of the set is "
                f"{validator.address.hex().upper()}",
            )
        if not _verify_signature(validator, vote_sign_bytes(chain_id, commit, index), sig.signature):
            raise ProofError(f"{what}.commit.signatures[{index}]", "wrong signature")
        tallied += validator.power
        signers.append(validator)
    if tallied <= needed:
        raise ProofError(
            f"{what}.commit",
            f"signed by {tallied} of {vals.total_power} voting power: not more than 2/3",
        )
    return Tally(tuple(signers), tallied, vals.total_power, len(vals.validators))


def verify_commit_trusting(chain_id: str, trusted: ValidatorSet, block: LightBlock, what: str) -> Tally:
    """``VerifyCommitLightTrustingAllSignatures``: validators of the trusted set, found by
    address in the commit, signed it validly and hold more than 1/3 of the trusted set's power."""
    commit = block.commit
    needed = trusted.total_power * TRUST_NUMERATOR // TRUST_DENOMINATOR
    seen: dict[int, int] = {}
    tallied, signers = 0, []
    for index, sig in enumerate(commit.signatures):
        if sig.flag != FLAG_COMMIT:
            continue
        found = trusted.by_address(sig.address)
        if found is None:
            continue
        position, validator = found
        if position in seen:
            raise ProofError(
                f"{what}.commit.signatures[{index}]",
                f"double vote from {validator.address.hex().upper()} "
                f"(signatures {seen[position]} and {index})",
            )
        seen[position] = index
        if not _verify_signature(validator, vote_sign_bytes(chain_id, commit, index), sig.signature):
            raise ProofError(f"{what}.commit.signatures[{index}]", "wrong signature")
        tallied += validator.power
        signers.append(validator)
    if tallied <= needed:
        raise ProofError(
            f"{what}.commit",
            f"the trusted validators sign {tallied} of their {trusted.total_power} voting power: "
            "not more than 1/3, so the new validator set cannot be trusted",
        )
    return Tally(tuple(signers), tallied, trusted.total_power, len(trusted.validators))


@dataclass(frozen=True, slots=True)
class Trusted:
    """A trusted header and the validator set that signed it (the trust anchor's, or a block
    verified from it)."""

    header: Header
    validators: ValidatorSet


def _check_time_and_set(block: LightBlock, now: Time, what: str) -> None:
    """The header is not from the future (beyond the clock drift), and the block's validator set
    is the one its header names."""
    u = block.header
    if not u.time < Time(now.seconds + MAX_CLOCK_DRIFT_SECONDS, now.nanos):
        raise ProofError(f"{what}.header.time", f"{u.time} is in the future (now {now})")
    computed = block.validators.hash()
    if u.validators_hash != computed:
        raise ProofError(
            f"{what}.validators",
            f"hash to {computed.hex().upper()}, the header's validators_hash is "
            f"{u.validators_hash.hex().upper()}",
        )


def verify(
    trusted: Trusted,
    untrusted: LightBlock,
    trusting_period: int,
    now: Time,
    what: str,
) -> Tally:
    """``light.Verify``: ``untrusted`` is committed by its validators and vouched for by
    ``trusted`` (adjacent: the trusted header names its validators as the next ones; otherwise
    more than 1/3 of the trusted set's power signed it). Returns the untrusted block's tally."""
    t, u = trusted.header, untrusted.header
    chain_id = t.chain_id
    expires = Time(t.time.seconds + trusting_period, t.time.nanos)
    if not expires > now:
        raise ProofError(
            what,
            f"the trusted header (height {t.height}, {t.time}) is past its trusting period: "
            f"it expired at {expires}; export a newer trust anchor",
        )
    validate_signed_header(untrusted, chain_id, what)
    if u.height <= t.height:
        raise ProofError(f"{what}.header.height", f"{u.height}, not after the trusted height {t.height}")
    if not u.time > t.time:
        raise ProofError(f"{what}.header.time", f"{u.time}, not after the trusted header's time {t.time}")
    _check_time_and_set(untrusted, now, what)
    if u.height == t.height + 1:
        if u.validators_hash != t.next_validators_hash:
            raise ProofError(
                f"{what}.header.validators_hash",
                "is not the trusted header's next_validators_hash (adjacent heights)",
            )
        return verify_commit(chain_id, untrusted.validators, untrusted, what)
    vouched = verify_commit_trusting(chain_id, trusted.validators, untrusted, what)
    tally = verify_commit(chain_id, untrusted.validators, untrusted, what)
    tally.extra["vouched"] = vouched
    return tally


def verify_vouched(
    trusted: Sequence[Trusted], block: LightBlock, trusting_period: int, now: Time, what: str
) -> Tally:
    """A block at any height, even below the trusted ones: committed by more than 2/3 of its own
    set's power, and signed by more than 1/3 of the power of one of the ``trusted`` sets still in
    its trusting period (``VerifyNonAdjacent``'s two commit checks). CometBFT's light client
    reaches heights below its trusted one through ``last_block_id`` hashes instead; a trusted set
    whose third signs a block vouches for it on the same assumption as a forward step."""
    if not trusted:
        raise ProofError(what, "no trusted validator set")
    chain_id = trusted[0].header.chain_id
    validate_signed_header(block, chain_id, what)
    _check_time_and_set(block, now, what)
    live = [t for t in trusted if Time(t.header.time.seconds + trusting_period, t.header.time.nanos) > now]
    if not live:
        raise ProofError(
            what, "every trusted header is past its trusting period; export a newer trust anchor"
        )
    refusal: ProofError | None = None
    for t in live:
        try:
            vouched = verify_commit_trusting(chain_id, t.validators, block, what)
        except ProofError as exc:
            if "cannot be trusted" not in exc.reason:
                raise
            refusal = exc
            continue
        tally = verify_commit(chain_id, block.validators, block, what)
        tally.extra["vouched"] = vouched
        return tally
    assert refusal is not None
    raise refusal


def verify_path(
    trusted: Trusted, path: Sequence[LightBlock], trusting_period: int, now: Time, what: str
) -> tuple[Tally, list[Trusted]]:
    """Verify each block of ``path`` from the one before it (the first from ``trusted``), as the
    light client's skipping verification does: the tally of the last, and every trusted state
    (``trusted`` and each verified block). A first block at or below the trusted height (an
    anchor newer than the passport) is taken by ``verify_vouched``."""
    if not path:
        raise ProofError(what, "no light blocks")
    states = [trusted]
    tally: Tally | None = None
    for n, block in enumerate(path):
        where = f"{what}[{n}] (height {block.height})"
        if n == 0 and block.height <= trusted.header.height:
            tally = verify_vouched([trusted], block, trusting_period, now, where)
        else:
            if n > 0 and block.height <= path[n - 1].height:
                raise ProofError(where, f"not above the block before it (height {path[n - 1].height})")
            tally = verify(states[-1], block, trusting_period, now, where)
        states.append(Trusted(block.header, block.validators))
    assert tally is not None
    return tally, states


def now() -> Time:
    moment = dt.datetime.now(dt.UTC)
    return Time(int(moment.timestamp()), moment.microsecond * 1000)
