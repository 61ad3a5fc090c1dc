// Device readings that weighed a passport's lots (passport/evidence/weighed.py): the device's
// signature (EIP-191 over the OpenZeppelin standard leaf), the leaf in the lot's content hash and
// in a window anchored by Consortium.anchorTelemetry before the mint, and the device's binding
// to the lot's facility, by storage proofs.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { processProof } from '@openzeppelin/merkle-tree/dist/core.js';
import { standardLeafHash } from '@openzeppelin/merkle-tree/dist/hashes.js';
import { ProofError, keccak, concat, checksum, hexToBytes, utf8ToBytes } from './util.js';
import * as layout from './layout.js';

const LEAF_TYPES = ['address', 'uint32', 'uint64', 'uint64', 'string', 'int256', 'string'];
const PERSONAL = utf8ToBytes('\x19Ethereum Signed Message:\n32');
const HEX32 = /^0x[0-9a-f]{64}$/;

export function readingLeaf(r) {
  return standardLeafHash(LEAF_TYPES, [checksum(r.device), BigInt(r.facility), BigInt(r.seq), BigInt(r.time), r.kind, BigInt(r.value), r.unit]);
}

export function leafSigner(leafHex, signatureHex) {
  try {
    const sig = hexToBytes(signatureHex.slice(2));
    if (sig.length !== 65) return null;
    const v = sig[64] >= 27 ? sig[64] - 27 : sig[64];
    if (v > 1) return null;
    const digest = keccak(concat(PERSONAL, hexToBytes(leafHex.slice(2))));
    const point = secp256k1.Signature.fromBytes(sig.subarray(0, 64), 'compact').addRecoveryBit(v).recoverPublicKey(digest);
    return checksum(keccak(point.toBytes(false).subarray(1)).subarray(12));
  } catch {
    return null;
  }
}

const leadsTo = (leaf, proof, root) => {
  try {
    return processProof(leaf, proof) === root;
  } catch {
    return false;
  }
};

export async function checkReadings(chain, derived, readings) {
  const failures = [];
  const nodes = new Map(derived.lineage.nodes.map((n) => [n.batch_id, n]));
  const minted = new Map(derived.custody.filter((c) => c.type === 'minted').map((c) => [c.batch_id, c.time]));
  const consortium = derived.chain.consortium;
  const seen = new Set();
  for (const [n, w] of readings.entries()) {
    const r = w.reading ?? {};
    const where = `readings[${n}] (${r.device}:${r.seq})`;
    const key = `${String(r.device).toLowerCase()}:${r.seq}`;
    if (seen.has(key)) {
      failures.push([where, 'the reading is listed twice']);
      continue;
    }
    seen.add(key);
    const lot = nodes.get(w.batch_id);
    if (!lot) {
      failures.push([where, `batch ${w.batch_id} is not in this passport's lineage`]);
      continue;
    }
    const hashes = [w.window?.root, ...(w.lot_proof ?? []), ...(w.window_proof ?? [])];
    if (!hashes.every((h) => typeof h === 'string' && HEX32.test(h)) || !/^0x[0-9a-f]{130}$/.test(r.signature ?? '')) {
      failures.push([where, 'malformed proof hex']);
      continue;
    }
    let leaf;
    try {
      leaf = readingLeaf(r);
    } catch (exc) {
      failures.push([where, `malformed reading (${exc.message})`]);
      continue;
    }
    if (leafSigner(leaf, r.signature) !== checksum(r.device)) failures.push([`${where} signature`, `not signed by device ${r.device}`]);
    if (r.facility !== lot.facility_id) failures.push([`${where} facility`, `names facility ${r.facility}, the lot's is ${lot.facility_id}`]);
    if (!leadsTo(leaf, w.lot_proof, lot.content_hash)) failures.push([`${where} lot_proof`, `the reading is not in batch ${w.batch_id}'s document root`]);
    if (!leadsTo(leaf, w.window_proof, w.window.root)) failures.push([`${where} window_proof`, `the reading is not in window ${w.window.root}`]);
    let word, device;
    try {
      word = await chain.storage(consortium, layout.telemetryAnchorSlot(w.window.root), `telemetry anchor ${w.window.root}`);
      device = await chain.storage(consortium, layout.deviceSlot(r.device), `device ${checksum(r.device)}`);
    } catch (exc) {
      if (!(exc instanceof ProofError)) throw exc;
      failures.push([exc.what, exc.reason]);
      continue;
    }
    const f = (label) => Number(layout.field(word, 'TelemetryAnchor', label));
    const anchoredAt = f('anchoredAt');
    if (anchoredAt === 0) {
      failures.push([`${where} window`, `root ${w.window.root} is not anchored at the passport's block`]);
    } else if (f('facilityId') !== lot.facility_id || f('count') !== w.window.count || f('fromTime') !== w.window.from_time || f('toTime') !== w.window.to_time) {
      failures.push([`${where} window`, `anchored as facility ${f('facilityId')}, ${f('count')} readings, ${f('fromTime')}..${f('toTime')}`]);
    } else if (minted.has(w.batch_id) && anchoredAt > minted.get(w.batch_id)) {
      failures.push([`${where} window`, `anchored at ${anchoredAt}, after batch ${w.batch_id} was minted`]);
    }
    const bound = Number(layout.field(device, 'Device', 'facilityId'));
    if (bound !== lot.facility_id) failures.push([`${where} device`, `${r.device} is bound to facility ${bound}, not ${lot.facility_id}`]);
  }
  return failures;
}
