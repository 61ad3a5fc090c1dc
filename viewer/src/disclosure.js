// Disclosed record fields: each revealed value and salt against its leaf, the OpenZeppelin
// multiproof of the revealed leaves and all leaves against the root (@openzeppelin/merkle-tree),
// and the root against the chain through the passport's proofs (passport/evidence/disclosed.py).
import canonicalize from 'canonicalize';
import { processMultiProof } from '@openzeppelin/merkle-tree/dist/core.js';
import { standardLeafHash } from '@openzeppelin/merkle-tree/dist/hashes.js';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { ProofError, checksum, sha256Hex, utf8ToBytes } from './util.js';
import * as layout from './layout.js';
import publicTier from '../../passport/records/tiers/public.json';
import buyerTier from '../../passport/records/tiers/buyer.json';
import authorityTier from '../../passport/records/tiers/authority.json';
import memberSchema from '../../passport/records/schemas/member.schema.json';
import facilitySchema from '../../passport/records/schemas/facility.schema.json';
import batchSchema from '../../passport/records/schemas/batch.schema.json';

const HEX32 = /^0x[0-9a-f]{64}$/;
export const TIERS = { public: publicTier, buyer: buyerTier, authority: authorityTier };
const REQUIRED = {
  member: requiredPaths(memberSchema), facility: requiredPaths(facilitySchema), batch: requiredPaths(batchSchema),
};
export const label = (d) => `${d.kind} ${d.subject}`;
export const keyOf = (d) => `${d.kind}:${String(d.subject).toLowerCase()}`;

export function leafHash(path, value, salt) {
  return standardLeafHash(['string', 'string', 'bytes32'], [path, canonicalize(value), salt]);
}

/** [where, why] for everything in one disclosure that does not hang together, without the chain. */
export function checkDisclosure(d) {
  const where = `disclosure ${label(d)}`;
  const revealed = d.revealed ?? {};
  const withheld = d.withheld ?? {};
  const failures = Object.keys(revealed).filter((p) => p in withheld).sort()
    .map((p) => [`${where} field ${p}`, 'both revealed and withheld']);
  const hashes = [d.root, ...Object.values(revealed).flatMap((f) => [f.leaf, f.salt]), ...Object.values(withheld), ...(d.proof ?? [])];
  if (!hashes.every((h) => typeof h === 'string' && HEX32.test(h))) return [...failures, [where, 'malformed hex']];
  const stated = Object.values(revealed).map((f) => f.leaf);
  if (!stated.length && !Object.keys(withheld).length) return [...failures, [where, 'no fields']];
  for (const path of Object.keys(revealed).sort()) {
    const f = revealed[path];
    if (leafHash(path, f.value, f.salt) !== f.leaf) {
      failures.push([`${where} field ${path}`, 'the value or salt does not match its committed leaf']);
    }
  }
  if (stated.length) {
    const leaves = [...stated].sort();
    const flags = d.flags ?? [];
    let root;
    if (leaves.length + d.proof.length !== flags.length + 1) {
      failures.push([`${where} proof`, `multiproof shape: ${leaves.length} leaves + ${d.proof.length} proof hashes != ${flags.length} flags + 1`]);
    } else {
      try {
        root = processMultiProof({ leaves, proof: d.proof, proofFlags: flags });
      } catch (exc) {
        failures.push([`${where} proof`, String(exc.message)]);
      }
      if (root !== undefined && root !== d.root) failures.push([`${where} proof`, `the multiproof does not lead to root ${d.root}`]);
    }
  }
  const all = [...stated, ...Object.values(withheld)];
  if (SimpleMerkleTree.of(all).root !== d.root) failures.push([`${where} withheld`, `the leaves do not rebuild root ${d.root}`]);
  return failures;
}

/** The lineage's records: its batches, facilities, their operators, the holders. */
export function lineageSubjects(doc) {
  const out = new Set(doc.lineage.nodes.map((n) => `batch:${n.batch_id}`));
  for (const f of doc.facilities) {
    out.add(`facility:${f.facility_id}`);
    out.add(`member:${f.operator.toLowerCase()}`);
  }
  out.add(`member:${doc.product.owner.toLowerCase()}`);
  out.add(`member:${doc.product.custodian.toLowerCase()}`);
  return out;
}

/** Records a passport may disclose: the lineage's, and every party it names (custody senders and
 * receivers, certifiers, regulators). */
export function recordSubjects(doc) {
  const out = lineageSubjects(doc);
  const parties = [
    ...(doc.custody ?? []).flatMap((c) => [c.sender, c.receiver]),
    ...(doc.attestations ?? []).map((a) => a.certifier),
    ...(doc.regulatory ?? []).map((r) => r.regulator),
  ];
  for (const p of parties) if (p) out.add(`member:${p.toLowerCase()}`);
  return out;
}

export async function checkDisclosures(chain, derived, disclosures) {
  const failures = [];
  const subjects = recordSubjects(derived);
  const recordRoots = new Map(derived.facilities.map((f) => [f.facility_id, f.record_root]));
  const contentHashes = new Map(derived.lineage.nodes.map((n) => [n.batch_id, n.content_hash]));
  const seen = new Set();
  let appended = null;
  for (const [n, d] of disclosures.entries()) {
    const where = `disclosures[${n}] (${label(d)})`;
    const seenKey = `${keyOf(d)}:${d.root}`;
    if (seen.has(seenKey)) {
      failures.push([where, 'the record is disclosed twice']);
      continue;
    }
    seen.add(seenKey);
    if (!subjects.has(keyOf(d))) {
      failures.push([where, "not a record of this passport's lineage"]);
      continue;
    }
    for (const [what, why] of checkDisclosure(d)) failures.push([what.replace(`disclosure ${label(d)}`, where), why]);
    let onChain;
    try {
      if (d.kind === 'member') {
        const member = checksum(d.subject);
        const w = await chain.storage(derived.chain.consortium, layout.profileRootSlot(member), `member ${member} profile root`);
        onChain = layout.hex32(w);
      } else if (d.kind === 'facility') {
        onChain = recordRoots.get(Number(d.subject));
      } else if (d.anchor_tx == null) {
        onChain = contentHashes.get(Number(d.subject));
      } else {
        if (appended === null) {
          appended = new Map();
          for (const e of await chain.events(derived.chain)) {
            if (e.name === 'BatchDocumentsAdded' && e.address === derived.chain.passport) {
              appended.set(`${e.tx_hash}:${Number(e.args.batchId)}`, e.args.documentRoot);
            }
          }
        }
        const found = appended.get(`${d.anchor_tx}:${Number(d.subject)}`);
        if (found === undefined) {
          failures.push([`${where} anchor_tx`, `no proven BatchDocumentsAdded for batch ${d.subject} in ${d.anchor_tx}`]);
          continue;
        }
        onChain = found;
      }
    } catch (exc) {
      if (!(exc instanceof ProofError)) throw exc;
      failures.push([exc.what, exc.reason]);
      continue;
    }
    if (onChain !== d.root) failures.push([`${where} root`, `${d.root} is not the root on chain (${onChain})`]);
  }
  return failures;
}

// ---------------------------------------------------------------- tiers (passport/evidence/disclosed.py)

const ZERO32 = '0x' + '00'.repeat(32);

/** Python's fnmatch.fnmatchcase: * ? [seq] [!seq], over the whole path. */
function globRegex(pattern) {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = '^' + body.slice(1);
      else if (body.startsWith('^')) body = '\\' + body;
      out += `[${body}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`, 's');
}

export const reveals = (tier, kind, path) =>
  (tier.reveal?.[kind] ?? []).some((p) => globRegex(p).test(path) || path.startsWith(p + '.'));

/** Field paths every valid record of a kind has (passport/records/fields.py required_paths). */
export function requiredPaths(schema) {
  const resolve = (node) => {
    if (typeof node?.$ref === 'string' && node.$ref.startsWith('#/')) {
      return resolve(node.$ref.slice(2).split('/').reduce((t, part) => t[part], schema));
    }
    return node ?? {};
  };
  const walk = (node, prefix) => {
    const out = [];
    for (const name of node.required ?? []) {
      const child = resolve((node.properties ?? {})[name]);
      if (child.type === 'object' && child.properties && child.required) out.push(...walk(child, `${prefix}${name}.`));
      else if (child.type !== 'object') out.push(`${prefix}${name}`);
    }
    return out;
  };
  return walk(schema, '');
}

const normalTier = (t) => ({ tier: t.tier, description: t.description ?? '', reveal: t.reveal ?? {} });
export const tierFingerprint = (t) => 'sha256:' + sha256Hex(utf8ToBytes(canonicalize(normalTier(t))));

/** The rules of the tier a passport names, and [where, why] when they cannot be trusted. */
export function tierRules(doc) {
  if (doc.tier == null) {
    if (doc.tier_spec != null || (doc.tier_missing ?? []).length) {
      return [null, [['tier', 'the file carries tier rules or missing records but names no tier']]];
    }
    return [null, []];
  }
  const shipped = Object.hasOwn(TIERS, doc.tier) ? TIERS[doc.tier] : null;
  const spec = doc.tier_spec;
  if (spec == null) {
    if (shipped === null) return [null, [['tier', `${pyStr(doc.tier)} is not a shipped tier and the file carries no tier_spec`]]];
    return [shipped, []];
  }
  if (spec.tier !== doc.tier) return [null, [['tier_spec.tier', `${pyStr(spec.tier)}, but the file's tier is ${pyStr(doc.tier)}`]]];
  if (shipped !== null && tierFingerprint(spec) !== tierFingerprint(shipped)) {
    return [null, [['tier_spec', `not the rules of the shipped ${pyStr(spec.tier)} tier (the file's ${tierFingerprint(spec)}, shipped ${tierFingerprint(shipped)})`]]];
  }
  return [normalTier(spec), []];
}

const pyStr = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const has = (tier, kind) => (tier.reveal?.[kind] ?? []).length > 0;

/** What the tier promises that the disclosures do not hold: [item, why] gaps and [where, why] broken proofs. */
export async function tierGaps(chain, derived, disclosures, tier, parties = true) {
  const gaps = [];
  const broken = [];
  const byKey = new Map();
  for (const d of disclosures) byKey.set(keyOf(d), [...(byKey.get(keyOf(d)) ?? []), d]);
  const subjects = recordSubjects(derived);
  const named = parties ? subjects : lineageSubjects(derived);
  const require = (kind, subject, root, shown) => {
    const found = byKey.get(`${kind}:${subject.toLowerCase()}`) ?? [];
    if (!found.length) gaps.push([shown, `its record is on chain (root ${root}) but not disclosed`]);
    else if (kind === 'batch' && found.every((d) => d.root !== root)) {
      gaps.push([shown, `an earlier document root is disclosed, not the latest on chain (${root})`]);
    }
  };
  if (has(tier, 'member')) {
    const members = [...named].filter((k) => k.startsWith('member:')).map((k) => k.slice(7)).sort();
    for (const subject of members) {
      const member = checksum(subject);
      try {
        const w = await chain.storage(derived.chain.consortium, layout.profileRootSlot(member), `member ${member} profile root`);
        const root = layout.hex32(w);
        if (root !== ZERO32) require('member', member, root, `member ${member}`);
      } catch (exc) {
        if (!(exc instanceof ProofError)) throw exc;
        broken.push([exc.what, `${exc.reason} (the ${tier.tier} tier needs every lineage member's)`]);
      }
    }
  }
  if (has(tier, 'facility')) {
    for (const f of derived.facilities) {
      if (f.record_root !== ZERO32) require('facility', String(f.facility_id), f.record_root, `facility ${f.facility_id}`);
    }
  }
  if (has(tier, 'batch')) {
    const lineage = new Set(derived.lineage.nodes.map((n) => n.batch_id));
    const latest = new Map();
    let events = [];
    try {
      events = await chain.events(derived.chain);
    } catch (exc) {
      if (!(exc instanceof ProofError)) throw exc;
      broken.push([exc.what, exc.reason]);
    }
    for (const e of events) {
      if (e.name !== 'BatchDocumentsAdded' || e.address !== derived.chain.passport) continue;
      const batch = Number(e.args.batchId);
      const prev = latest.get(batch);
      if (lineage.has(batch) && (!prev || prev.block < e.block || (prev.block === e.block && prev.log_index < e.log_index))) {
        latest.set(batch, { block: e.block, log_index: e.log_index, root: e.args.documentRoot });
      }
    }
    for (const batch of [...latest.keys()].sort((a, b) => a - b)) require('batch', String(batch), latest.get(batch).root, `batch ${batch}`);
  }
  for (const d of disclosures) {
    if (!subjects.has(keyOf(d)) || !has(tier, d.kind)) continue;
    const shown = d.kind === 'member' ? `member ${checksum(d.subject)}` : label(d);
    for (const path of Object.keys(d.withheld ?? {}).sort()) {
      if (reveals(tier, d.kind, path)) gaps.push([`${shown} ${path}`, `withheld, but the ${tier.tier} tier reveals it`]);
    }
    for (const path of REQUIRED[d.kind].slice().sort()) {
      if (reveals(tier, d.kind, path) && !(path in (d.revealed ?? {})) && !(path in (d.withheld ?? {}))) {
        gaps.push([`${shown} ${path}`, `every ${d.kind} record has it and the ${tier.tier} tier reveals it; absent`]);
      }
    }
  }
  return [gaps, broken];
}

/** [where, why] for each promise of the passport's tier its disclosures break, and notes for marked gaps. */
export async function checkTier(chain, derived, doc) {
  const [tier, failures] = tierRules(doc);
  if (tier === null) return [failures, [], null];
  const [gaps, broken] = await tierGaps(chain, derived, doc.disclosures ?? [], tier, doc.tier_spec != null);
  const marked = new Set(doc.tier_missing ?? []);
  failures.push(...broken);
  for (const [item, why] of gaps) if (!marked.has(item)) failures.push([`tier ${tier.tier}: ${item}`, why]);
  const found = new Set(gaps.map(([item]) => item));
  for (const item of [...marked].filter((i) => !found.has(i)).sort()) {
    failures.push(['tier_missing', `${pyStr(item)} is marked missing, but the ${tier.tier} tier lacks nothing there`]);
  }
  const notes = gaps.filter(([item]) => marked.has(item))
    .map(([item, why]) => `incomplete at the ${tier.tier} tier: ${item} (${why}; marked missing by the exporter)`);
  return [failures, notes, tier];
}
