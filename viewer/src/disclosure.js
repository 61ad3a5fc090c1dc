// Disclosed record fields: each revealed value and salt against its leaf, the OpenZeppelin
// multiproof of the revealed leaves and all leaves against the root (@openzeppelin/merkle-tree),
// and the root against the chain through the passport's proofs (passport/evidence/disclosed.py).
import canonicalize from 'canonicalize';
import { processMultiProof } from '@openzeppelin/merkle-tree/dist/core.js';
import { standardLeafHash } from '@openzeppelin/merkle-tree/dist/hashes.js';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { ProofError, checksum } from './util.js';
import * as layout from './layout.js';

const HEX32 = /^0x[0-9a-f]{64}$/;
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

/** Record subjects a passport may disclose: its batches, facilities, their operators, the holders. */
export function recordSubjects(doc) {
  const out = new Set(doc.lineage.nodes.map((n) => `batch:${n.batch_id}`));
  for (const f of doc.facilities) {
    out.add(`facility:${f.facility_id}`);
    out.add(`member:${f.operator.toLowerCase()}`);
  }
  out.add(`member:${doc.product.owner.toLowerCase()}`);
  out.add(`member:${doc.product.custodian.toLowerCase()}`);
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
