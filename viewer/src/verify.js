// Offline verification of a passport file against the consortium's trust anchor, in the browser:
// the same steps, failures and wording as passport/evidence/verify.py, which runs the same test
// vectors (viewer/test/vectors). Seals -> headers -> accounts (code hashes) -> storage and
// receipts -> decode -> re-derive every claim -> compare field by field -> completeness ->
// disclosures -> version hash -> policies.
import canonicalize from 'canonicalize';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ProofError, keccak, concat, word, utf8ToBytes, checksum, hex0x, sha256Hex } from './util.js';
import { ProvenChain } from './proven.js';
import { derive, historyCounts, inFormatOf, PASSPORT_KIND, PASSPORT_KIND_V1, processIds, relevant } from './derive.js';
import { checkDisclosures, checkTier, tierFingerprint } from './disclosure.js';
import { checkReadings } from './weighed.js';
import { BUILTIN, checkPolicy } from './policy.js';
import * as layout from './layout.js';
import * as cometbft from './cometbft.js';
import { check as checkQuorum, describe as describeQuorum } from './quorum.js';

export { cometbft, describeQuorum };

export const DEFAULT_POLICIES = ['dfars-2027', 'eu-2017-821'];
export const UNSEALED_NOTE = 'headers not sealed: trusted as exported';
const SEAL_DOMAIN = utf8ToBytes('\x19Mineral Passport block seal:\n');
const ATTESTATIONS_NOT_COMPLETE =
  'not proven complete: the registry keeps no per-subject index; each listed attestation is ' +
  'proven included, and its record and validity are proven at the anchor block';
const HISTORY =
  "complete: each batch's history events (mint, offers, cancellations, acceptances, " +
  'discrepancies, title transfers, split, freezes, unfreezes, taints) are counted by its ' +
  'Record.history slot, proven at the anchor block';
const CONTRACTS = ['consortium', 'passport', 'registry'];

/** The address whose key sealed ``blockHash`` on chain ``chainId``, or null. */
export function sealSigner(chainId, blockHash, seal) {
  try {
    if (seal.length !== 65 || seal[64] > 1) return null;
    const digest = keccak(concat(SEAL_DOMAIN, word(BigInt(chainId)), blockHash));
    const sig = secp256k1.Signature.fromBytes(seal.subarray(0, 64), 'compact').addRecoveryBit(seal[64]);
    const point = sig.recoverPublicKey(digest);
    return checksum(keccak(point.toBytes(false).subarray(1)).subarray(12));
  } catch {
    return null;
  }
}

export function claims(doc) {
  const { evidence, version, tier, tier_spec, tier_missing, disclosures, readings, ...rest } = doc;
  return rest;
}

export const versionHash = (doc) => 'sha256:' + sha256Hex(utf8ToBytes(canonicalize(claims(doc))));

/** Every leaf where the file and the re-derivation differ, by JSON path. */
export function diff(a, b, path = '') {
  const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
      .flatMap((k) => diff(a[k] ?? null, b[k] ?? null, path ? `${path}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out = [];
    for (let n = 0; n < Math.max(a.length, b.length); n++) out.push(...diff(a[n] ?? null, b[n] ?? null, `${path}[${n}]`));
    return out;
  }
  const same = (a ?? null) === (b ?? null) || (typeof a === 'bigint' || typeof b === 'bigint' ? String(a) === String(b) : false);
  return same ? [] : [{ path, inFile: a, onChain: b }];
}

export function repr(v) {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

async function readChainData(chain, ref, batchId) {
  const { passport: p, consortium: c, registry: r } = ref;
  const batches = new Map();
  const parents = new Map();
  const history = new Map();
  let frontier = [batchId];
  while (frontier.length) {
    const following = [];
    for (const i of frontier) {
      const record = await chain.storage(p, layout.recordSlot(i), `batch ${i} record`);
      if (layout.field(record, 'Record', 'owner') === 0n) {
        throw new ProofError(i === batchId ? 'product.batch_id' : `batch ${i}`, `BatchNotFound: batch ${i} does not exist at the anchor block`);
      }
      const holding = await chain.storage(p, layout.holdingSlot(i), `batch ${i} holding`);
      const content = await chain.storage(p, layout.contentHashSlot(i), `batch ${i} content hash`);
      const b = layout.batchOf(i, record, holding, content);
      batches.set(i, b);
      history.set(i, Number(layout.field(record, 'Record', 'history')));
      if (b.flags & layout.FLAGS.FROM_SPLIT) parents.set(i, [b.parent_ref]);
      else if (b.flags & layout.FLAGS.FROM_PROCESS) {
        const slot = layout.processInputsSlot(b.parent_ref);
        const what = `process ${b.parent_ref} inputs`;
        const length = await chain.storage(p, slot, what);
        if (length > 64n) throw new ProofError(what, `${length} inputs (at most 64)`);
        const start = layout.arrayData(slot);
        const list = [];
        for (let n = 0; n < Number(length); n++) list.push(Number(await chain.storage(p, start + BigInt(n), `${what}[${n}]`)));
        parents.set(i, list);
      } else parents.set(i, []);
      for (const x of parents.get(i)) if (!batches.has(x) && !following.includes(x) && !frontier.includes(x)) following.push(x);
    }
    frontier = following;
  }
  const facilities = new Map();
  for (const f of [...new Set([...batches.values()].map((b) => b.facility_id))].sort((a, b) => a - b)) {
    const base = layout.facilitySlot(f);
    const w0 = await chain.storage(c, base, `facility ${f}`);
    const w1 = await chain.storage(c, layout.memberSlot(base, 'Facility', 'recordRoot'), `facility ${f} location`);
    if (layout.field(w0, 'Facility', 'operator') === 0n) throw new ProofError(`facility ${f}`, 'ConsortiumUnknownFacility at the anchor block');
    facilities.set(f, layout.facilityOf(f, w0, w1));
  }
  const tainted = new Map();
  for (const [i, b] of batches) {
    const f = facilities.get(b.facility_id);
    tainted.set(i, Boolean(b.flags & layout.FLAGS.TAINTED) || f.sanctioned || f.operator_sanctioned);
  }
  const baseUri = await chain.string(p, layout.baseUriSlot(), 'the base token URI');
  const tokenUri = baseUri ? `${baseUri}${batchId}` : '';
  const allEvents = await chain.events(ref);
  const ids = new Set(batches.keys());
  const events = relevant(allEvents, ref, ids, new Set(processIds(batches)), new Set([...ids, ...facilities.keys()]));
  const schemas = new Map();
  const schemaIds = [...new Set(events.filter((e) => e.name === 'Attested').map((e) => Number(e.args.schemaId)))].sort((a, b) => a - b);
  for (const s of schemaIds) {
    const base = layout.schemaSlot(s);
    const name = await chain.string(r, base, `schema ${s} name`);
    const w = await chain.storage(r, layout.memberSlot(base, 'Schema', 'revocable'), `schema ${s}`);
    if (!name) throw new ProofError(`schema ${s}`, 'AttestationUnknownSchema at the anchor block');
    schemas.set(s, { name, revocable: Boolean(layout.field(w, 'Schema', 'revocable')), subject_kind: Number(layout.field(w, 'Schema', 'subjectKind')) });
  }
  const states = new Map();
  for (const e of events) {
    if (e.name !== 'Attested' || states.has(e.args.uid)) continue;
    const uid = e.args.uid;
    const w = await chain.storage(r, layout.attestationSlot(uid), `attestation ${uid}`);
    const certifierInt = layout.field(w, 'Attestation', 'certifier');
    if (certifierInt === 0n) throw new ProofError(`attestation ${uid}`, 'AttestationNotFound at the anchor block');
    const certifier = layout.addressOf(certifierInt);
    const schemaId = Number(layout.field(w, 'Attestation', 'schemaId'));
    const flags = Number(layout.field(w, 'Attestation', 'flags'));
    const issued = Number(layout.field(w, 'Attestation', 'issuedAt'));
    const expires = Number(layout.field(w, 'Attestation', 'expiresAt'));
    const standing = (flags & 1) === 0 && !(expires && ref.as_of_time >= expires);
    // Read for a revoked or expired attestation too (its DCC names the window), but files exported
    // before the exporter proved it there lack those nodes: that is no failure, it is invalid anyway.
    let window = null;
    try {
      window = await accreditationWindow(chain, c, certifier, schemaId, issued);
    } catch (exc) {
      if (standing || !(exc instanceof ProofError)) throw exc;
    }
    const valid = standing && window !== null;
    states.set(uid, { certifier, schema_id: schemaId, flags, issued_at: issued, expires_at: expires, valid });
  }
  const times = new Map([...chain.headers.values()].map((h) => [h.number, h.timestamp]));
  return { data: { chain: ref, batches, parents, tainted, facilities, token_uri: tokenUri, events, schemas, attestations: states, times }, history };
}

export async function accreditationWindow(chain, consortium, certifier, schemaId, at) {
  const slot = layout.accreditationsSlot(certifier, schemaId);
  const what = `accreditation of ${certifier} for schema ${schemaId}`;
  const length = Number(await chain.storage(consortium, slot, what));
  const start = layout.arrayData(slot);
  for (let n = length - 1; n >= 0; n--) {
    const w = await chain.storage(consortium, start + BigInt(n), `${what}[${n}]`);
    const from = Number(layout.field(w, 'Accreditation', 'validFrom'));
    const until = Number(layout.field(w, 'Accreditation', 'validUntil'));
    if (from <= at && at < until) return [from, until];
    if (until <= at) return null;
  }
  return null;
}

function completeness(proven) {
  const { data, history } = proven;
  const failures = [];
  const saturated = [];
  const counts = historyCounts(data.events);
  for (const i of [...data.batches.keys()].sort((a, b) => a - b)) {
    const counted = history.get(i);
    const listed = counts.get(i) ?? 0;
    if (counted >= layout.HISTORY_MAX) {
      saturated.push(i);
      if (listed < counted) failures.push([`history of batch ${i}`, `${listed} events proven, the chain counts at least ${counted}`]);
    } else if (listed !== counted) {
      failures.push([`history of batch ${i}`, `${listed} events proven, the chain counts ${counted}${listed < counted ? ' (events omitted)' : ''}`]);
    }
  }
  const found = new Set(data.events.filter((e) => e.name === 'BatchesProcessed').map((e) => Number(e.args.processId)));
  for (const p of processIds(data.batches)) {
    if (!found.has(p)) failures.push([`transformations: process ${p}`, 'its BatchesProcessed event is not proven']);
  }
  let hist = HISTORY;
  if (saturated.length) {
    hist = `not proven complete for batch(es) ${saturated.join(', ')}: their history counter is saturated at ${layout.HISTORY_MAX}; `
      + HISTORY.replace(/^complete: /, '') + ' for the others';
  }
  const statements = {
    custody: hist,
    regulatory: hist,
    lineage: "complete: each batch's parents are read from storage (parentRef, processInputs)",
    transformations: "complete: each split is counted in its parent's history; each processing step of the lineage is proven by its BatchesProcessed event",
    attestations: ATTESTATIONS_NOT_COMPLETE,
  };
  return [statements, failures];
}

/** SHA-256 of the anchor's RFC 8785 form, as ``TrustAnchor.fingerprint()`` computes it. */
export const anchorFingerprint = (trustFile) => 'sha256:' + sha256Hex(utf8ToBytes(canonicalize(trustFile)));

function normaliseTrust(trust) {
  const contracts = {};
  for (const name of CONTRACTS) {
    const c = trust?.contracts?.[name];
    if (!c || typeof c.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(c.address)) throw new Error(`trust anchor: contracts.${name} missing or malformed`);
    contracts[name] = { address: checksum(c.address), code_hash: c.code_hash };
  }
  if (trust.kind === 'mineral-passport/trust-anchor@2') {
    const c = trust.cometbft;
    if (!Number.isInteger(trust.chain_id) || !c || !Array.isArray(c.validators) || !Number.isInteger(c.trusting_period_seconds)) {
      throw new Error('trust anchor: chain_id or cometbft malformed');
    }
    return { ...trust, contracts, sealed: true, comet: true, validators: c.validators.map((v) => v.address) };
  }
  if (trust.kind !== 'mineral-passport/trust-anchor@1') throw new Error('not a trust anchor (kind)');
  if (!Number.isInteger(trust.chain_id) || !Array.isArray(trust.validators)) throw new Error('trust anchor: chain_id or validators malformed');
  return { ...trust, contracts, validators: trust.validators.map(checksum) };
}

/** Check every claim of ``doc`` (the parsed passport JSON) against its evidence and ``trustFile``.
 * Never throws for a bad document or proof: each becomes a named failure. */
export async function verifyOffline(doc, trustFile, policies = DEFAULT_POLICIES) {
  const trust = normaliseTrust(trustFile);
  const report = {
    anchor: { name: trust.name, genesis_hash: trust.genesis_hash, fingerprint: anchorFingerprint(trustFile) },
    batch_id: doc?.product?.batch_id ?? null, as_of_block: doc?.chain?.as_of_block ?? null, as_of_time: null,
    consortium: trust.name, validators: trust.validators.length, sealed: trust.sealed, quorum: null, tier: null,
    failures: [], notes: [], completeness: {}, policies: [], counts: {},
  };
  const fail = (where, reason) => report.failures.push({ where, reason });
  try {
    await verifyInto(doc, trust, policies, report, fail);
  } catch (exc) {
    if (exc instanceof ProofError) fail(exc.what, exc.reason);
    else fail('document', `cannot be read (${exc.message})`);
    if (globalThis.PASSPORT_DEBUG) console.error(exc);
  }
  report.ok = report.failures.length === 0;
  return report;
}

async function verifyInto(doc, trust, policies, report, fail) {
  if (doc?.kind !== PASSPORT_KIND && doc?.kind !== PASSPORT_KIND_V1) return fail('kind', 'not a mineral passport file');
  const tungsten = doc.kind === PASSPORT_KIND ? 'contained_tungsten_ug' : 'contained_tungsten_grams';
  if (doc.product?.[tungsten] == null) return fail(`product.${tungsten}`, `a ${doc.kind} file states it`);
  const evidence = doc.evidence;
  if (!evidence) return fail('evidence', 'the file carries no evidence (export it with evidence to verify offline)');
  const ref = doc.chain;
  if (ref.chain_id !== trust.chain_id) fail('chain.chain_id', `file has ${ref.chain_id}, the trust anchor ${trust.chain_id}`);
  for (const name of CONTRACTS) {
    if (ref[name] !== trust.contracts[name].address) fail(`chain.${name}`, `file has ${ref[name]}, the trust anchor ${trust.contracts[name].address}`);
  }
  if (report.failures.length) return;
  const chain = await ProvenChain.create(evidence);
  if (trust.comet) {
    const [quorum, refused] = checkQuorum(evidence.consensus, trust, chain);
    report.quorum = quorum;
    for (const [where, why] of refused) fail(where, why);
  } else {
    if (evidence.consensus) fail('evidence.consensus', "CometBFT commits, but the trust anchor is a single sealer's");
    checkHeaders(chain, trust, fail);
  }
  for (const name of CONTRACTS) {
    const anchor = trust.contracts[name];
    try {
      const codeHash = (await chain.account(anchor.address))[3];
      if (hex0x(codeHash) !== anchor.code_hash) fail(`${name} contract ${anchor.address}`, "its code hash differs from the trust anchor's");
    } catch (exc) {
      if (!(exc instanceof ProofError)) throw exc;
      fail(exc.what, exc.reason);
    }
  }
  if (report.failures.length) return;
  const a = chain.anchor;
  const derivedRef = {
    chain_id: trust.chain_id, consortium: trust.contracts.consortium.address, passport: trust.contracts.passport.address,
    registry: trust.contracts.registry.address, as_of_block: a.number, as_of_block_hash: hex0x(a.hash), as_of_time: a.timestamp,
  };
  report.as_of_block = a.number;
  report.as_of_time = a.timestamp;
  const proven = await readChainData(chain, derivedRef, doc.product.batch_id);
  const derived = inFormatOf(derive(proven.data, doc.product.batch_id), doc);
  for (const m of diff(claims(doc), derived)) fail(m.path, `file has ${repr(m.inFile)}, the proofs give ${repr(m.onChain)}`);
  const [statements, missing] = completeness(proven);
  report.completeness = statements;
  for (const [where, reason] of missing) fail(where, reason);
  const stated = evidence.completeness ?? {};
  for (const [name, statement] of Object.entries(statements)) {
    if (stated[name] !== statement) fail(`evidence.completeness.${name}`, `the file states ${repr(stated[name])}`);
  }
  for (const name of Object.keys(stated).filter((n) => !(n in statements)).sort()) {
    fail(`evidence.completeness.${name}`, 'the file states a list the evidence does not cover');
  }
  const disclosures = doc.disclosures ?? [];
  for (const [where, why] of await checkDisclosures(chain, { ...derived, chain: derivedRef }, disclosures)) fail(where, why);
  const [refusedTier, incomplete, tier] = await checkTier(chain, { ...derived, chain: derivedRef }, doc);
  for (const [where, why] of refusedTier) fail(where, why);
  report.notes.push(...incomplete);
  if (tier) report.tier = { name: tier.tier, fingerprint: tierFingerprint(tier), complete: !incomplete.length, description: tier.description };
  for (const [where, why] of await checkReadings(chain, { ...derived, chain: derivedRef }, doc.readings ?? [])) fail(where, why);
  report.counts = {
    records: disclosures.length,
    fields: disclosures.reduce((n, d) => n + Object.keys(d.revealed ?? {}).length, 0),
  };
  if (doc.version != null && doc.version.hash !== versionHash(doc)) {
    fail('version.hash', `the file states ${doc.version.hash}, the claims hash to ${versionHash(doc)}`);
  }
  const cited = new Set([...(evidence.receipts ?? []).map((r) => r.block.toLowerCase()), hex0x(a.hash)]);
  if (evidence.consensus) for (const h of chain.headers.values()) cited.add(hex0x(h.parentHash));
  [...chain.headers.values()].forEach((h, n) => {
    if (!cited.has(hex0x(h.hash))) fail(`evidence header ${n} (block ${h.number})`, 'cited by no receipt');
  });
  const unread = chain.unreadNodes();
  if (unread) fail('evidence.proofs', `${unread} trie node(s) are part of no proof the claims need`);
  if (!trust.sealed) report.notes.push(UNSEALED_NOTE);
  if (!report.failures.length) {
    report.policies = policies.map((p) => checkPolicy(doc, typeof p === 'string' ? BUILTIN[p] : p));
  }
}

function checkHeaders(chain, trust, fail) {
  const validators = new Set(trust.validators);
  [...chain.headers.values()].forEach((h, n) => {
    const what = `evidence header ${n} (block ${h.number})`;
    if (!trust.sealed) return;
    if (h.seal === null) return fail(what, 'no seal');
    const signer = sealSigner(trust.chain_id, h.hash, h.seal);
    if (signer === null) fail(what, 'the seal is not a valid signature');
    else if (!validators.has(signer)) fail(what, `sealed by ${signer}: a validator not in the anchor's set`);
  });
  if (chain.anchor.number === 0 && hex0x(chain.anchor.hash) !== trust.genesis_hash) {
    fail('evidence.anchor', "block 0 is not the trust anchor's genesis");
  }
}

// For the unit tests (viewer/test): the parts, through the one test bundle.
export * as layout from './layout.js';
export { checksum } from './util.js';
export { leafHash, checkDisclosure } from './disclosure.js';
export { layoutDag } from './graph.js';
export { unpack } from './proven.js';
export { readingLeaf, leafSigner } from './weighed.js';
