// Every field and proof hash of every device reading in the demo's buyer-tier passport, changed
// alone, fails in the browser verifier naming the reading and what broke (as
// tests/evidence/test_vectors.py asserts for Python).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { verifyOffline } from '../../build/viewer/verify.mjs';

const dir = new URL('./vectors/', import.meta.url);
const read = (name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const vector = read('good-buyer.json');
const trust = read(vector.trust);
const good = vector.passport;

function mutations(w, batches) {
  const r = w.reading;
  const flipped = r.signature.slice(0, 10) + (r.signature[10] !== '0' ? '0' : '1') + r.signature.slice(11);
  const out = [
    ['reading', 'device', '0x' + '12'.repeat(20), 'signature'],
    ['reading', 'facility', r.facility + 1, 'signature'],
    ['reading', 'seq', r.seq + 1, 'signature'],
    ['reading', 'time', r.time + 1, 'signature'],
    ['reading', 'kind', 'moisture', 'signature'],
    ['reading', 'value', r.value + 1, 'signature'],
    ['reading', 'unit', 'kg', 'signature'],
    ['reading', 'signature', flipped, 'signature'],
    [null, 'batch_id', batches.find((b) => b !== w.batch_id), 'lot_proof'],
    ['window', 'root', '0x' + '55'.repeat(32), 'window_proof'],
    ['window', 'count', w.window.count + 1, 'window'],
    ['window', 'from_time', w.window.from_time - 1, 'window'],
    ['window', 'to_time', w.window.to_time + 1, 'window'],
  ];
  w.lot_proof.forEach((_, k) => out.push(['lot_proof', k, '0x' + '66'.repeat(32), 'lot_proof']));
  w.window_proof.forEach((_, k) => out.push(['window_proof', k, '0x' + '77'.repeat(32), 'window_proof']));
  return out;
}

test('every field and proof hash of every reading fails, naming it', async () => {
  const batches = good.lineage.nodes.map((n) => n.batch_id);
  assert.ok(good.readings.length > 0);
  let checked = 0;
  for (const [n, w] of good.readings.entries()) {
    for (const [part, key, value, suffix] of mutations(w, batches)) {
      const doc = structuredClone(good);
      const target = part === null ? doc.readings[n] : doc.readings[n][part];
      target[key] = value;
      const r = doc.readings[n].reading;
      const where = `readings[${n}] (${r.device}:${r.seq}) ${suffix}`;
      const report = await verifyOffline(doc, trust);
      assert.ok(report.failures.some((f) => f.where === where), `${part}.${key}: ${report.failures.map((f) => f.where).join('; ')}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 30);
});
