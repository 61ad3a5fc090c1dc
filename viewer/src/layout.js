// Where the contracts keep what a passport's claims read: slots and packing, as
// passport/evidence/layout.py (checked there against `forge inspect ... storageLayout`).
import { keccak, word, toBigInt, concat, addressOf, countryOf } from './util.js';

export { addressOf };

export const VARIABLES = {
  MineralPassport: { _records: 0n, _holdings: 1n, _contentHashes: 2n, _processInputs: 4n, _baseTokenURI: 9n },
  Consortium: { _members: 0n, _facilities: 1n, _devices: 2n, _accreditations: 3n, _profileRoots: 10n, _telemetryAnchors: 11n },
  AttestationRegistry: { _schemas: 2n, _attestations: 4n },
};

// struct -> label -> [slot offset, byte offset, size]
export const STRUCTS = {
  Record: { owner: [0, 0, 20], stage: [0, 20, 1], flags: [0, 21, 1], gradePpm: [0, 22, 3], facilityId: [0, 25, 4], country: [0, 29, 2], history: [0, 31, 1] },
  Member: { roles: [0, 0, 1], active: [0, 1, 1], sanctioned: [0, 2, 1], jurisdiction: [0, 3, 2], joinedAt: [0, 5, 5] },
  Holding: { custodian: [0, 0, 20], massGrams: [0, 20, 8], parentRef: [0, 28, 4] },
  Facility: { operator: [0, 0, 20], country: [0, 20, 2], kind: [0, 22, 1], sanctioned: [0, 23, 1], operatorSanctioned: [0, 24, 1], recordRoot: [1, 0, 32] },
  Accreditation: { validFrom: [0, 0, 5], validUntil: [0, 5, 5] },
  Device: { facilityId: [0, 0, 4], active: [0, 4, 1] },
  TelemetryAnchor: { facilityId: [0, 0, 4], count: [0, 4, 4], fromTime: [0, 8, 5], toTime: [0, 13, 5], anchoredAt: [0, 18, 5] },
  Attestation: { certifier: [0, 0, 20], schemaId: [0, 20, 3], flags: [0, 23, 1], issuedAt: [0, 24, 4], expiresAt: [0, 28, 4] },
  Schema: { name: [0, 0, 32], revocable: [1, 0, 1], subjectKind: [1, 1, 1] },
};

export const HISTORY_MAX = 255;
export const STAGES = ['ORE', 'CONCENTRATE', 'APT', 'OXIDE', 'POWDER', 'CARBIDE', 'WF6', 'SCRAP'];
export const FACILITY_KINDS = ['MINE', 'CONCENTRATOR', 'REFINERY', 'CONVERTER', 'RECYCLER', 'WAREHOUSE', 'FABRICATOR'];
export const SUBJECT_KINDS = ['BATCH', 'FACILITY', 'MEMBER'];
export const FLAGS = { CONSUMED: 1, FROZEN: 2, TAINTED: 4, DISCREPANCY: 8, OFFER_PENDING: 16, FROM_SPLIT: 32, FROM_PROCESS: 64, APPROVED: 128 };

export function stageStep(stage) {
  if (stage === 'ORE' || stage === 'CONCENTRATE') return 'mined';
  if (stage === 'APT') return 'refined';
  if (stage === 'SCRAP') return 'recycled';
  return 'converted';
}

export function flagNames(flags) {
  return Object.entries(FLAGS).filter(([name, bit]) => flags & bit && name !== 'APPROVED').map(([name]) => name);
}

const big = (n) => BigInt(n);

export function mappingSlot(slot, key) {
  return toBigInt(keccak(concat(word(big(key)), word(big(slot)))));
}

export function arrayData(slot) {
  return toBigInt(keccak(word(big(slot))));
}

export function field(w, struct, label) {
  const m = STRUCTS[struct][label];
  if (!m) throw new Error(`${struct}.${label}`);
  return (w >> BigInt(8 * m[1])) & ((1n << BigInt(8 * m[2])) - 1n);
}

export function memberSlot(base, struct, label) {
  return base + BigInt(STRUCTS[struct][label][0]);
}

const mp = VARIABLES.MineralPassport;
const cs = VARIABLES.Consortium;
const ar = VARIABLES.AttestationRegistry;
export const recordSlot = (id) => mappingSlot(mp._records, id);
export const holdingSlot = (id) => mappingSlot(mp._holdings, id);
export const contentHashSlot = (id) => mappingSlot(mp._contentHashes, id);
export const processInputsSlot = (id) => mappingSlot(mp._processInputs, id);
export const baseUriSlot = () => mp._baseTokenURI;
export const facilitySlot = (id) => mappingSlot(cs._facilities, id);
export const memberRecordSlot = (address) => mappingSlot(cs._members, BigInt(address));
export const profileRootSlot = (address) => mappingSlot(cs._profileRoots, BigInt(address));
export const deviceSlot = (address) => mappingSlot(cs._devices, BigInt(address));
export const telemetryAnchorSlot = (root) => mappingSlot(cs._telemetryAnchors, BigInt(root));
export const accreditationsSlot = (certifier, schemaId) => mappingSlot(mappingSlot(cs._accreditations, BigInt(certifier)), schemaId);
export const schemaSlot = (id) => mappingSlot(ar._schemas, id);
export const attestationSlot = (uid) => mappingSlot(ar._attestations, BigInt(uid));

export const hex32 = (w) => '0x' + w.toString(16).padStart(64, '0');

export function batchOf(batchId, record, holding, content) {
  const stage = Number(field(record, 'Record', 'stage'));
  if (stage >= STAGES.length) throw new Error(`batch ${batchId}: stage ${stage} is not a known stage`);
  return {
    batch_id: batchId,
    owner: addressOf(field(record, 'Record', 'owner')),
    custodian: addressOf(field(holding, 'Holding', 'custodian')),
    stage: STAGES[stage],
    mass_grams: Number(field(holding, 'Holding', 'massGrams')),
    grade_ppm: Number(field(record, 'Record', 'gradePpm')),
    facility_id: Number(field(record, 'Record', 'facilityId')),
    country: countryOf(field(record, 'Record', 'country')),
    flags: Number(field(record, 'Record', 'flags')),
    parent_ref: Number(field(holding, 'Holding', 'parentRef')),
    content_hash: hex32(content),
  };
}

export function facilityOf(id, w0, w1) {
  const kind = Number(field(w0, 'Facility', 'kind'));
  if (kind >= FACILITY_KINDS.length) throw new Error(`facility ${id}: kind ${kind} is not a known kind`);
  return {
    facility_id: id,
    operator: addressOf(field(w0, 'Facility', 'operator')),
    country: countryOf(field(w0, 'Facility', 'country')),
    kind: FACILITY_KINDS[kind],
    sanctioned: Boolean(field(w0, 'Facility', 'sanctioned')),
    operator_sanctioned: Boolean(field(w0, 'Facility', 'operatorSanctioned')),
    record_root: hex32(field(w1, 'Facility', 'recordRoot')),
  };
}

export function stringDataSlots(slot, w) {
  if ((w & 1n) === 0n) return [];
  const length = (w - 1n) / 2n;
  const start = arrayData(slot);
  const out = [];
  for (let i = 0n; i < (length + 31n) / 32n; i++) out.push(start + i);
  return out;
}

export function stringOf(w, data) {
  let raw;
  if ((w & 1n) === 0n) {
    const length = Number((w & 0xffn) / 2n);
    raw = word(w).slice(0, length);
  } else {
    const length = Number((w - 1n) / 2n);
    if (data.length * 32 < length) throw new Error('string data slots missing');
    raw = concat(...data.map(word)).slice(0, length);
  }
  return new TextDecoder().decode(raw);
}
