// CometBFT light-client verification in the browser: the same steps, names and failures as
// passport/evidence/cometbft.py (CometBFT v0.38's types/validation.go, types/block.go and
// light/verifier.go), run on the same vectors (viewer/test/vectors/cometbft). Hashes with
// @noble/hashes (SHA-256), ed25519 with @noble/curves (ZIP 215, as CometBFT verifies); the
// protobuf encodings a header, a validator and a vote are hashed or signed in are written here
// field by field (proto3: zero scalars left out; gogoproto non-nullable messages always in).
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ProofError, concat } from './util.js';

export const BLOCK_PROTOCOL = 11n;
export const TRUST_NUMERATOR = 1n;
export const TRUST_DENOMINATOR = 3n;
export const MAX_CLOCK_DRIFT_SECONDS = 10n;
export const FLAG_ABSENT = 1;
export const FLAG_COMMIT = 2;
export const FLAG_NIL = 3;
const PRECOMMIT = 2n;
const ED25519_TYPE = 'tendermint/PubKeyEd25519';
const TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$/;
const upper = (bytes) => bytesToHex(bytes).toUpperCase();

// ------------------------------------------------------------------ values

function daysFromCivil(y, m, d) {
  // days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export class Time {
  constructor(seconds, nanos = 0n) {
    this.seconds = BigInt(seconds);
    this.nanos = BigInt(nanos);
  }

  static parse(text, what) {
    const m = typeof text === 'string' ? TIME.exec(text) : null;
    if (m === null) throw new ProofError(what, `not an RFC 3339 UTC time: ${JSON.stringify(text)}`);
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
      throw new ProofError(what, 'not a time');
    }
    const days = BigInt(daysFromCivil(y, mo, d));
    return new Time(days * 86400n + BigInt(h * 3600 + mi * 60 + s), BigInt((m[7] ?? '0').padEnd(9, '0')));
  }

  compare(other) {
    if (this.seconds !== other.seconds) return this.seconds < other.seconds ? -1 : 1;
    return this.nanos === other.nanos ? 0 : this.nanos < other.nanos ? -1 : 1;
  }

  plus(seconds) {
    return new Time(this.seconds + BigInt(seconds), this.nanos);
  }

  toString() {
    const ms = Number(this.seconds) * 1000;
    const date = new Date(ms).toISOString().slice(0, 19);
    return `${date}.${this.nanos.toString().padStart(9, '0')}Z`;
  }

  encode() {
    return concat(fieldVarint(1, this.seconds), fieldVarint(2, this.nanos));
  }
}

// ------------------------------------------------------------------ protobuf writing

function varint(value) {
  let n = BigInt.asUintN(64, BigInt(value));
  const out = [];
  while (n >= 0x80n) {
    out.push(Number((n & 0x7fn) | 0x80n));
    n >>= 7n;
  }
  out.push(Number(n));
  return Uint8Array.from(out);
}

const key = (field, wire) => varint((field << 3) | wire);
const fieldVarint = (field, value) => (BigInt(value) === 0n ? new Uint8Array() : concat(key(field, 0), varint(value)));
const fieldBytes = (field, bytes) => (bytes.length === 0 ? new Uint8Array() : concat(key(field, 2), varint(bytes.length), bytes));
const fieldMessage = (field, bytes) => concat(key(field, 2), varint(bytes.length), bytes); // always present

function fieldSfixed64(field, value) {
  if (BigInt(value) === 0n) return new Uint8Array();
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value), true);
  return concat(key(field, 1), out);
}

// ------------------------------------------------------------------ hashing

/** `merkle.HashFromByteSlices` (RFC 6962). */
export function merkleRoot(items) {
  if (items.length === 0) return sha256(new Uint8Array());
  if (items.length === 1) return sha256(concat(Uint8Array.of(0), items[0]));
  let split = 1;
  while (split * 2 < items.length) split *= 2;
  return sha256(concat(Uint8Array.of(1), merkleRoot(items.slice(0, split)), merkleRoot(items.slice(split))));
}

const blockIdBytes = (id) =>
  concat(fieldBytes(1, id.hash), fieldMessage(2, concat(fieldVarint(1, id.partsTotal), fieldBytes(2, id.partsHash))));
const isZero = (id) => id.hash.length === 0 && id.partsTotal === 0n && id.partsHash.length === 0;

/** `Header.Hash()`: the Merkle root over the 14 encoded fields. */
export function headerHash(h) {
  const wrapped = (bytes) => fieldBytes(1, bytes);
  return merkleRoot([
    concat(fieldVarint(1, h.versionBlock), fieldVarint(2, h.versionApp)),
    fieldBytes(1, utf8ToBytes(h.chainId)),
    fieldVarint(1, h.height),
    h.time.encode(),
    blockIdBytes(h.lastBlockId),
    wrapped(h.lastCommitHash),
    wrapped(h.dataHash),
    wrapped(h.validatorsHash),
    wrapped(h.nextValidatorsHash),
    wrapped(h.consensusHash),
    wrapped(h.appHash),
    wrapped(h.lastResultsHash),
    wrapped(h.evidenceHash),
    wrapped(h.proposerAddress),
  ]);
}

const validatorBytes = (v) => concat(fieldMessage(1, fieldBytes(1, v.pubKey)), fieldVarint(2, v.power));
export const validatorsHash = (set) => merkleRoot(set.validators.map(validatorBytes));
export const totalPower = (set) => set.validators.reduce((n, v) => n + v.power, 0n);

/** `Commit.VoteSignBytes`: the length-prefixed CanonicalVote validator `index` signed. */
export function voteSignBytes(chainId, commit, index) {
  const sig = commit.signatures[index];
  const blockId =
    sig.flag === FLAG_COMMIT && !isZero(commit.blockId)
      ? fieldMessage(4, concat(fieldBytes(1, commit.blockId.hash),
          fieldMessage(2, concat(fieldVarint(1, commit.blockId.partsTotal), fieldBytes(2, commit.blockId.partsHash)))))
      : new Uint8Array();
  const body = concat(
    fieldVarint(1, PRECOMMIT),
    fieldSfixed64(2, commit.height),
    fieldSfixed64(3, commit.round),
    blockId,
    fieldMessage(5, sig.time.encode()),
    fieldBytes(6, utf8ToBytes(chainId)),
  );
  return concat(varint(body.length), body);
}

export const cometAddress = (pubKey) => sha256(pubKey).subarray(0, 20);

// ------------------------------------------------------------------ reading RPC JSON

function hex(value, what, size = null) {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(value)) {
    throw new ProofError(what, `not hex: ${JSON.stringify(value)}`);
  }
  const raw = hexToBytes(value);
  if (size !== null && raw.length > 0 && raw.length !== size) throw new ProofError(what, `${raw.length} bytes (expected ${size})`);
  return raw;
}

function b64(value, what) {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new ProofError(what, 'not base64');
  }
  const text = atob(value);
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function int(value, what) {
  if (typeof value === 'boolean' || !(typeof value === 'number' || typeof value === 'string')) {
    throw new ProofError(what, `not an integer: ${JSON.stringify(value)}`);
  }
  if (typeof value === 'number' ? !Number.isInteger(value) : !/^[+-]?\d+$/.test(value.trim())) {
    throw new ProofError(what, `not an integer: ${JSON.stringify(value)}`);
  }
  const n = BigInt(typeof value === 'string' ? value.trim() : value);
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new ProofError(what, 'out of the int64 range');
  return n;
}

function obj(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProofError(what, 'not an object');
  return value;
}

function blockId(data, what) {
  const d = obj(data, what);
  const parts = obj(d.parts ?? {}, `${what}.parts`);
  return {
    hash: hex(d.hash ?? '', `${what}.hash`, 32),
    partsTotal: int(parts.total ?? 0, `${what}.parts.total`),
    partsHash: hex(parts.hash ?? '', `${what}.parts.hash`, 32),
  };
}

const HASHES = [
  ['last_commit_hash', 'lastCommitHash'], ['data_hash', 'dataHash'], ['validators_hash', 'validatorsHash'],
  ['next_validators_hash', 'nextValidatorsHash'], ['consensus_hash', 'consensusHash'],
  ['last_results_hash', 'lastResultsHash'], ['evidence_hash', 'evidenceHash'],
];

export function readHeader(data, what) {
  const h = obj(data, what);
  const version = obj(h.version ?? {}, `${what}.version`);
  if (typeof h.chain_id !== 'string') throw new ProofError(`${what}.chain_id`, 'not a string');
  const header = {
    versionBlock: int(version.block ?? 0, `${what}.version.block`),
    versionApp: int(version.app ?? 0, `${what}.version.app`),
    chainId: h.chain_id,
    height: int(h.height, `${what}.height`),
    time: Time.parse(h.time, `${what}.time`),
    lastBlockId: blockId(h.last_block_id ?? {}, `${what}.last_block_id`),
    appHash: hex(h.app_hash ?? '', `${what}.app_hash`),
    proposerAddress: hex(h.proposer_address ?? '', `${what}.proposer_address`, 20),
  };
  for (const [name, prop] of HASHES) header[prop] = hex(h[name] ?? '', `${what}.${name}`, 32);
  return header;
}

export function readCommit(data, what) {
  const c = obj(data, what);
  if (!Array.isArray(c.signatures)) throw new ProofError(`${what}.signatures`, 'not a list');
  const signatures = c.signatures.map((s, n) => {
    const w = `${what}.signatures[${n}]`;
    const sig = obj(s, w);
    const flag = Number(int(sig.block_id_flag, `${w}.block_id_flag`));
    if (![FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL].includes(flag)) throw new ProofError(`${w}.block_id_flag`, `unknown flag ${flag}`);
    return {
      flag,
      address: hex(sig.validator_address ?? '', `${w}.validator_address`, 20),
      time: Time.parse(sig.timestamp, `${w}.timestamp`),
      signature: sig.signature === null || sig.signature === undefined ? new Uint8Array() : b64(sig.signature, `${w}.signature`),
    };
  });
  return {
    height: int(c.height, `${what}.height`),
    round: int(c.round ?? 0, `${what}.round`),
    blockId: blockId(c.block_id ?? {}, `${what}.block_id`),
    signatures,
  };
}

export function readValidators(data, what) {
  if (!Array.isArray(data) || data.length === 0) throw new ProofError(what, 'not a non-empty list of validators');
  return {
    validators: data.map((v, n) => {
      const w = `${what}[${n}]`;
      const item = obj(v, w);
      const pk = obj(item.pub_key, `${w}.pub_key`);
      if (pk.type !== ED25519_TYPE) throw new ProofError(`${w}.pub_key`, `not an ed25519 key (${JSON.stringify(pk.type)})`);
      const pubKey = b64(pk.value, `${w}.pub_key`);
      if (pubKey.length !== 32) throw new ProofError(`${w}.pub_key`, `${pubKey.length} bytes (ed25519 keys have 32)`);
      const address = hex(item.address ?? '', `${w}.address`, 20);
      if (upper(address) !== upper(cometAddress(pubKey))) throw new ProofError(`${w}.address`, 'is not the address of its key');
      const power = int(item.voting_power, `${w}.voting_power`);
      if (power <= 0n) throw new ProofError(`${w}.voting_power`, 'not positive');
      return { address, pubKey, power };
    }),
  };
}

export function readLightBlock(data, what) {
  const d = obj(data, what);
  const signed = obj(d.signed_header, `${what}.signed_header`);
  const set = obj(d.validator_set, `${what}.validator_set`);
  const header = readHeader(signed.header, `${what}.header`);
  return {
    header,
    commit: readCommit(signed.commit, `${what}.commit`),
    validators: readValidators(set.validators, `${what}.validators`),
    get height() {
      return header.height;
    },
  };
}

// ------------------------------------------------------------------ verification

export function validateSignedHeader(block, chainId, what) {
  const h = block.header;
  const c = block.commit;
  if (h.versionBlock !== BLOCK_PROTOCOL) throw new ProofError(`${what}.header`, `block protocol ${h.versionBlock}, not ${BLOCK_PROTOCOL}`);
  if (h.chainId !== chainId) {
    throw new ProofError(`${what}.header.chain_id`, `'${h.chainId}', the trust anchor's chain is '${chainId}'`);
  }
  if (h.height <= 0n) throw new ProofError(`${what}.header.height`, 'not positive');
  if (h.validatorsHash.length !== 32) throw new ProofError(`${what}.header.validators_hash`, 'missing');
  if (c.height !== h.height) throw new ProofError(`${what}.commit.height`, `${c.height}, the header's height is ${h.height}`);
  if (c.round < 0n) throw new ProofError(`${what}.commit.round`, 'negative');
  if (isZero(c.blockId)) throw new ProofError(`${what}.commit.block_id`, 'a commit for no block');
  const hash = headerHash(h);
  if (upper(c.blockId.hash) !== upper(hash)) {
    throw new ProofError(`${what}.header`, `hashes to ${upper(hash)}, the commit is for ${upper(c.blockId.hash)}`);
  }
  if (c.signatures.length === 0) throw new ProofError(`${what}.commit.signatures`, 'none');
}

function verifySignature(validator, message, signature) {
  if (signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, validator.pubKey);
  } catch {
    return false;
  }
}

const tally = (signers, signedPower, total, setSize) => ({
  signers, signedPower, totalPower: total, setSize, extra: {},
  get percent() {
    return total === 0n ? 0 : (100 * Number(signedPower)) / Number(total);
  },
});

/** `VerifyCommitLightAllSignatures`. */
export function verifyCommit(chainId, vals, block, what) {
  const commit = block.commit;
  if (vals.validators.length !== commit.signatures.length) {
    throw new ProofError(`${what}.commit`, `${commit.signatures.length} signatures for a set of ${vals.validators.length} validators`);
  }
  const total = totalPower(vals);
  const needed = (total * 2n) / 3n;
  let tallied = 0n;
  const signers = [];
  commit.signatures.forEach((sig, index) => {
    if (sig.flag !== FLAG_COMMIT) return;
    const validator = vals.validators[index];
    if (upper(validator.address) !== upper(sig.address)) {
      throw new ProofError(`${what}.commit.signatures[${index}]`,
        `from ${upper(sig.address)}, but validator ${index} of the set is ${upper(validator.address)}`);
    }
    if (!verifySignature(validator, voteSignBytes(chainId, commit, index), sig.signature)) {
      throw new ProofError(`${what}.commit.signatures[${index}]`, 'wrong signature');
    }
    tallied += validator.power;
    signers.push(validator);
  });
  if (tallied <= needed) {
    throw new ProofError(`${what}.commit`, `signed by ${tallied} of ${total} voting power: not more than 2/3`);
  }
  return tally(signers, tallied, total, vals.validators.length);
}

/** `VerifyCommitLightTrustingAllSignatures`, trust level 1/3. */
export function verifyCommitTrusting(chainId, trusted, block, what) {
  const commit = block.commit;
  const total = totalPower(trusted);
  const needed = (total * TRUST_NUMERATOR) / TRUST_DENOMINATOR;
  const seen = new Map();
  let tallied = 0n;
  const signers = [];
  commit.signatures.forEach((sig, index) => {
    if (sig.flag !== FLAG_COMMIT) return;
    const position = trusted.validators.findIndex((v) => upper(v.address) === upper(sig.address));
    if (position < 0) return;
    const validator = trusted.validators[position];
    if (seen.has(position)) {
      throw new ProofError(`${what}.commit.signatures[${index}]`,
        `double vote from ${upper(validator.address)} (signatures ${seen.get(position)} and ${index})`);
    }
    seen.set(position, index);
    if (!verifySignature(validator, voteSignBytes(chainId, commit, index), sig.signature)) {
      throw new ProofError(`${what}.commit.signatures[${index}]`, 'wrong signature');
    }
    tallied += validator.power;
    signers.push(validator);
  });
  if (tallied <= needed) {
    throw new ProofError(`${what}.commit`,
      `the trusted validators sign ${tallied} of their ${total} voting power: not more than 1/3, so the new validator set cannot be trusted`);
  }
  return tally(signers, tallied, total, trusted.validators.length);
}

function checkTimeAndSet(block, now, what) {
  const u = block.header;
  if (!(u.time.compare(now.plus(MAX_CLOCK_DRIFT_SECONDS)) < 0)) {
    throw new ProofError(`${what}.header.time`, `${u.time} is in the future (now ${now})`);
  }
  const hash = validatorsHash(block.validators);
  if (upper(u.validatorsHash) !== upper(hash)) {
    throw new ProofError(`${what}.validators`, `hash to ${upper(hash)}, the header's validators_hash is ${upper(u.validatorsHash)}`);
  }
}

/** `light.Verify`: adjacent or non-adjacent, after the trusting-period and basic checks. */
export function verify(trusted, untrusted, trustingPeriod, now, what) {
  const t = trusted.header;
  const u = untrusted.header;
  const chainId = t.chainId;
  const expires = t.time.plus(trustingPeriod);
  if (!(expires.compare(now) > 0)) {
    throw new ProofError(what,
      `the trusted header (height ${t.height}, ${t.time}) is past its trusting period: it expired at ${expires}; export a newer trust anchor`);
  }
  validateSignedHeader(untrusted, chainId, what);
  if (u.height <= t.height) throw new ProofError(`${what}.header.height`, `${u.height}, not after the trusted height ${t.height}`);
  if (!(u.time.compare(t.time) > 0)) throw new ProofError(`${what}.header.time`, `${u.time}, not after the trusted header's time ${t.time}`);
  checkTimeAndSet(untrusted, now, what);
  if (u.height === t.height + 1n) {
    if (upper(u.validatorsHash) !== upper(t.nextValidatorsHash)) {
      throw new ProofError(`${what}.header.validators_hash`, "is not the trusted header's next_validators_hash (adjacent heights)");
    }
    return verifyCommit(chainId, untrusted.validators, untrusted, what);
  }
  const vouched = verifyCommitTrusting(chainId, trusted.validators, untrusted, what);
  const result = verifyCommit(chainId, untrusted.validators, untrusted, what);
  result.extra.vouched = vouched;
  return result;
}

/** A block at any height vouched for by one of the trusted sets (see cometbft.py). */
export function verifyVouched(trusted, block, trustingPeriod, now, what) {
  if (trusted.length === 0) throw new ProofError(what, 'no trusted validator set');
  const chainId = trusted[0].header.chainId;
  validateSignedHeader(block, chainId, what);
  checkTimeAndSet(block, now, what);
  const live = trusted.filter((t) => t.header.time.plus(trustingPeriod).compare(now) > 0);
  if (live.length === 0) throw new ProofError(what, 'every trusted header is past its trusting period; export a newer trust anchor');
  let refusal = null;
  for (const t of live) {
    let vouched;
    try {
      vouched = verifyCommitTrusting(chainId, t.validators, block, what);
    } catch (error) {
      if (!(error instanceof ProofError) || !error.reason.includes('cannot be trusted')) throw error;
      refusal = error;
      continue;
    }
    const result = verifyCommit(chainId, block.validators, block, what);
    result.extra.vouched = vouched;
    return result;
  }
  throw refusal;
}

/** Each block of `path` from the one before (the first from `trusted`): [tally, trusted states]. */
export function verifyPath(trusted, path, trustingPeriod, now, what) {
  if (path.length === 0) throw new ProofError(what, 'no light blocks');
  const states = [trusted];
  let result = null;
  path.forEach((block, n) => {
    const where = `${what}[${n}] (height ${block.height})`;
    if (n === 0 && block.height <= trusted.header.height) {
      result = verifyVouched([trusted], block, trustingPeriod, now, where);
    } else {
      if (n > 0 && block.height <= path[n - 1].height) {
        throw new ProofError(where, `not above the block before it (height ${path[n - 1].height})`);
      }
      result = verify(states[states.length - 1], block, trustingPeriod, now, where);
    }
    states.push({ header: block.header, validators: block.validators });
  });
  return [result, states];
}

export function now() {
  const ms = BigInt(Date.now());
  return new Time(ms / 1000n, (ms % 1000n) * 1000000n);
}
