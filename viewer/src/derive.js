// A passport's claims derived from chain data by pure functions: a port of
// passport/core/derive.py, producing the document's JSON form (passport/core/document.py).
import { FLAGS, flagNames, stageStep, SUBJECT_KINDS } from './layout.js';

const STEP_ORDER = ['mined', 'refined', 'converted', 'recycled'];
export const BATCH_EVENTS = new Set([
  'BatchMinted', 'CustodyOffered', 'CustodyOfferCancelled', 'CustodyAccepted', 'CustodyDiscrepancyRecorded',
  'BatchSplit', 'BatchProduced', 'BatchFrozen', 'BatchUnfrozen', 'BatchTainted',
]);
export const HISTORY_EVENTS = new Set([
  'BatchMinted', 'CustodyOffered', 'CustodyOfferCancelled', 'CustodyAccepted', 'CustodyDiscrepancyRecorded',
  'BatchSplit', 'BatchFrozen', 'BatchUnfrozen', 'BatchTainted',
]);
const ZERO32 = '0x' + '00'.repeat(32);
// @2: contained tungsten as integer micrograms (grams x ppm). @1 files (a float in grams) keep verifying.
export const PASSPORT_KIND = 'mineral-passport/passport@2';
export const PASSPORT_KIND_V1 = 'mineral-passport/passport@1';

/** The re-derived (current-format) document as `doc`'s format writes it. */
export function inFormatOf(derived, doc) {
  if (doc.kind !== PASSPORT_KIND_V1) return derived;
  const { contained_tungsten_ug: _ug, ...product } = derived.product;
  const keys = Object.keys(derived.product);
  const grams = (product.mass_grams * product.grade_ppm) / 1000000; // as @1 computed it
  const ordered = Object.fromEntries(keys.map((k) => (k === 'contained_tungsten_ug' ? ['contained_tungsten_grams', grams] : [k, product[k]])));
  return { ...derived, kind: PASSPORT_KIND_V1, product: ordered };
}
export const VERIFICATION_METHOD =
  'Every field is re-derived from the chain as of chain.as_of_block (eth_call and eth_getLogs ' +
  'at that block); `passport passport verify FILE` reports each mismatch. With `evidence`, ' +
  '`passport passport verify FILE --trust ANCHOR` re-derives every field offline from the ' +
  'proofs, checked against the consortium\'s trust anchor.';

const num = (v) => Number(v);
const byOrder = (a, b) => a.block - b.block || a.log_index - b.log_index;

export function processIds(batches) {
  const ids = new Set();
  for (const b of batches.values()) if (b.flags & FLAGS.FROM_PROCESS) ids.add(b.parent_ref);
  return [...ids].sort((a, b) => a - b);
}

export function relevant(events, chain, ids, processes, subjects) {
  const keep = new Map();
  for (const e of events) {
    const a = e.args;
    let ok;
    if (e.address === chain.passport) {
      ok = (BATCH_EVENTS.has(e.name) && ids.has(num(a.batchId)))
        || (e.name === 'Transfer' && ids.has(num(a.tokenId)))
        || (e.name === 'BatchesProcessed' && processes.has(num(a.processId)));
    } else {
      ok = e.address === chain.registry && e.name === 'Attested' && subjects.has(num(a.subject));
    }
    if (ok) keep.set(`${e.tx_hash}:${e.log_index}`, e);
  }
  return [...keep.values()].sort(byOrder);
}

export function attested(events, schemas, ids, facilityIds) {
  const wanted = { BATCH: ids, FACILITY: facilityIds };
  return events.filter((e) => {
    if (e.name !== 'Attested') return false;
    const kind = SUBJECT_KINDS[schemas.get(num(e.args.schemaId)).subject_kind];
    return (wanted[kind] ?? new Set()).has(num(e.args.subject));
  });
}

export function titleTransfers(events) {
  const accepts = new Set(events.filter((e) => e.name === 'CustodyAccepted').map((e) => `${e.tx_hash}:${e.log_index}:${num(e.args.batchId)}`));
  return events.filter((e) => e.name === 'Transfer' && BigInt(e.args.from) !== 0n
    && !accepts.has(`${e.tx_hash}:${e.log_index + 1}:${num(e.args.tokenId)}`));
}

export function historyCounts(events) {
  const counts = new Map();
  const bump = (id) => counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const e of events) if (HISTORY_EVENTS.has(e.name)) bump(num(e.args.batchId));
  for (const e of titleTransfers(events)) bump(num(e.args.tokenId));
  return counts;
}

/** The passport of ``batchId`` from ``data`` ({chain, batches, parents, tainted, facilities,
 * token_uri, events, schemas, attestations, times}; Maps keyed by number or uid). */
export function derive(data, batchId) {
  const { batches, parents, tainted, facilities, times } = data;
  const ids = [...batches.keys()].sort((a, b) => a - b);
  const idSet = new Set(ids);
  const facilityIds = new Set([...batches.values()].map((b) => b.facility_id));
  const events = relevant(data.events, data.chain, idSet, new Set(processIds(batches)), new Set([...ids, ...facilityIds]));
  const listed = attested(events, data.schemas, idSet, facilityIds);
  const product = batches.get(batchId);
  const edges = [];
  for (const i of ids) {
    for (const parent of parents.get(i)) {
      const viaProcess = Boolean(batches.get(i).flags & FLAGS.FROM_PROCESS);
      edges.push({ parent, child: i, via: viaProcess ? 'process' : 'split', process_id: viaProcess ? batches.get(i).parent_ref : null });
    }
  }
  edges.sort((a, b) => a.child - b.child || a.parent - b.parent);
  const telemetry = {};
  for (const i of ids) if (batches.get(i).content_hash !== ZERO32) telemetry[String(i)] = batches.get(i).content_hash;
  return {
    kind: PASSPORT_KIND,
    chain: data.chain,
    product: {
      batch_id: batchId,
      token_uri: data.token_uri,
      stage: product.stage,
      mass_grams: product.mass_grams,
      grade_ppm: product.grade_ppm,
      contained_tungsten_ug: product.mass_grams * product.grade_ppm,
      owner: product.owner,
      custodian: product.custodian,
      facility_id: product.facility_id,
      country: product.country,
      content_hash: product.content_hash,
      flags: flagNames(product.flags),
    },
    origins: ids.filter((i) => !parents.get(i).length).map((i) => {
      const b = batches.get(i);
      const f = facilities.get(b.facility_id);
      return { batch_id: i, facility_id: b.facility_id, facility_kind: f.kind, operator: f.operator, country: b.country, stage: b.stage, mass_grams: b.mass_grams };
    }),
    stage_countries: stageCountries(batches, product),
    lineage: {
      nodes: ids.map((i) => {
        const b = batches.get(i);
        return {
          batch_id: i, stage: b.stage, mass_grams: b.mass_grams, grade_ppm: b.grade_ppm, facility_id: b.facility_id,
          country: b.country, flags: flagNames(b.flags), tainted: tainted.get(i), content_hash: b.content_hash,
        };
      }),
      edges,
    },
    custody: custody(events, idSet, times),
    transformations: transformations(events, batches, facilities, times),
    attestations: attestationEntries(listed, data.attestations, data.schemas, data.chain.as_of_time),
    facilities: [...facilities.values()].map((f) => ({ ...f })),
    taint: taint(batches, tainted, facilities, events),
    regulatory: regulatory(events, times),
    telemetry_roots: telemetry,
    verification: { method: VERIFICATION_METHOD },
  };
}

function stageCountries(batches, product) {
  const seen = new Map();
  for (const b of batches.values()) {
    const step = stageStep(b.stage);
    if (!seen.has(step)) seen.set(step, new Set());
    seen.get(step).add(b.country);
  }
  const out = {};
  for (const step of STEP_ORDER) if (seen.has(step)) out[step] = [...seen.get(step)].sort();
  out.produced = [product.country];
  return out;
}

const custodyEvent = (fields) => ({
  batch_id: null, type: null, sender: null, receiver: null, custody_only: null, measured_grams: null,
  recorded_grams: null, block: null, time: null, tx: null, ...fields,
});

function custody(events, ids, times) {
  const titles = new Set(titleTransfers(events).map((e) => `${e.tx_hash}:${e.log_index}`));
  const out = [];
  for (const e of events) {
    const common = { block: e.block, time: times.get(e.block), tx: e.tx_hash };
    const a = e.args;
    const id = num(a.batchId ?? a.tokenId);
    if (!ids.has(id)) continue;
    if (e.name === 'BatchMinted') out.push(custodyEvent({ batch_id: id, type: 'minted', receiver: a.owner, ...common }));
    else if (e.name === 'CustodyOffered') out.push(custodyEvent({ batch_id: id, type: 'offered', sender: a.from, receiver: a.to, custody_only: a.custodyOnly, ...common }));
    else if (e.name === 'CustodyOfferCancelled') out.push(custodyEvent({ batch_id: id, type: 'cancelled', sender: a.by, receiver: a.to, ...common }));
    else if (e.name === 'CustodyAccepted') out.push(custodyEvent({ batch_id: id, type: 'accepted', sender: a.from, receiver: a.to, custody_only: a.custodyOnly, measured_grams: a.measuredGrams, ...common }));
    else if (e.name === 'CustodyDiscrepancyRecorded') out.push(custodyEvent({ batch_id: id, type: 'discrepancy', receiver: a.receiver, measured_grams: a.measuredGrams, recorded_grams: a.recordedGrams, ...common }));
    else if (titles.has(`${e.tx_hash}:${e.log_index}`)) out.push(custodyEvent({ batch_id: id, type: 'title-transfer', sender: a.from, receiver: a.to, ...common }));
  }
  return out;
}

function transformations(events, batches, facilities, times) {
  const out = [];
  for (const e of events) {
    const a = e.args;
    if (e.name === 'BatchSplit' && batches.has(num(a.batchId))) {
      const parent = batches.get(num(a.batchId));
      const first = num(a.firstChildId);
      out.push({
        type: 'TransformationEvent', event_time: times.get(e.block), biz_step: 'splitting', biz_location: parent.facility_id,
        country: parent.country, actor: a.owner, process_id: null,
        input_quantity_list: [{ batch_id: parent.batch_id, quantity_grams: a.masses.reduce((s, m) => s + m, 0) }],
        output_quantity_list: a.masses.map((m, n) => ({ batch_id: first + n, quantity_grams: m })),
        block: e.block, tx: e.tx_hash,
      });
    } else if (e.name === 'BatchesProcessed') {
      const facility = num(a.facilityId);
      if (a.inputIds.length !== a.inputMasses.length || a.outputIds.length !== a.outputMasses.length) {
        throw new Error(`process ${a.processId}: ids and masses differ in length`);
      }
      out.push({
        type: 'TransformationEvent', event_time: times.get(e.block), biz_step: 'transforming', biz_location: facility,
        country: facilities.has(facility) ? facilities.get(facility).country : '', actor: a.processor,
        process_id: num(a.processId),
        input_quantity_list: a.inputIds.map((i, n) => ({ batch_id: num(i), quantity_grams: a.inputMasses[n] })),
        output_quantity_list: a.outputIds.map((i, n) => ({ batch_id: num(i), quantity_grams: a.outputMasses[n] })),
        block: e.block, tx: e.tx_hash,
      });
    }
  }
  return out;
}

function attestationEntries(listed, states, schemas, asOfTime) {
  return listed.map((e) => {
    const state = states.get(e.args.uid);
    const schema = schemas.get(num(e.args.schemaId));
    let status;
    if (state.valid) status = 'valid';
    else if (state.flags & 1) status = 'revoked';
    else if (state.expires_at && asOfTime >= state.expires_at) status = 'expired';
    else status = 'unaccredited';
    return {
      uid: e.args.uid, schema_id: num(e.args.schemaId), schema_name: schema.name,
      subject_kind: SUBJECT_KINDS[schema.subject_kind], subject: num(e.args.subject), certifier: e.args.certifier,
      data_hash: e.args.dataHash, issued_at: state.issued_at, expires_at: state.expires_at, status,
      block: e.block, tx: e.tx_hash,
    };
  });
}

function taint(batches, tainted, facilities, events) {
  const byRegulator = new Set(events.filter((e) => e.name === 'BatchTainted').map((e) => num(e.args.batchId)));
  const sources = [];
  for (const i of [...batches.keys()].sort((a, b) => a - b)) {
    const b = batches.get(i);
    const f = facilities.get(b.facility_id);
    if (byRegulator.has(i)) sources.push({ batch_id: i, reason: 'regulator', facility_id: null });
    if ((f.sanctioned || f.operator_sanctioned) && !(b.flags & FLAGS.FROM_SPLIT)) {
      sources.push({ batch_id: i, reason: 'sanctioned-facility', facility_id: f.facility_id });
    } else if (b.flags & FLAGS.TAINTED && !byRegulator.has(i)) {
      sources.push({ batch_id: i, reason: 'inherited', facility_id: null });
    }
  }
  return { tainted: [...tainted.values()].some(Boolean), sources };
}

function regulatory(events, times) {
  const kinds = { BatchFrozen: 'frozen', BatchUnfrozen: 'unfrozen', BatchTainted: 'tainted' };
  return events.filter((e) => e.name in kinds).map((e) => ({
    batch_id: num(e.args.batchId), type: kinds[e.name], regulator: e.args.regulator, reason: e.args.reason ?? null,
    block: e.block, time: times.get(e.block), tx: e.tx_hash,
  }));
}
