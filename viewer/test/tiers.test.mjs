// A tier is a promise in the page's verifier too: each disclosure of the demo's buyer-tier WF6
// passport (exported with its tier's rules) dropped, and each revealed field deleted, fails and
// names the record (tests/evidence/test_disclosures_offline.py does the same in Python).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checksum, verifyOffline } from '../../build/viewer/verify.mjs';

const dir = new URL('./vectors/', import.meta.url);
const read = (name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const vector = read('good-buyer-tiered.json');
const trust = read(vector.trust);
const doc = vector.passport;
const shown = (d) => (d.kind === 'member' ? `member ${checksum(d.subject)}` : `${d.kind} ${d.subject}`);

test('the tiered vector verifies, complete at the buyer tier', async () => {
  const report = await verifyOffline(doc, trust);
  assert.deepEqual(report.failures, []);
  assert.equal(report.tier.name, 'buyer');
  assert.equal(report.tier.complete, true);
  assert.ok(doc.disclosures.length >= 13);
});

for (const [n, d] of doc.disclosures.entries()) {
  test(`dropping ${shown(d)} fails, naming it`, async () => {
    const others = doc.disclosures.filter((_, i) => i !== n);
    const report = await verifyOffline({ ...doc, disclosures: others }, trust);
    assert.ok(
      report.failures.some((f) => f.where === `tier buyer: ${shown(d)}` && f.reason.includes('not disclosed')),
      JSON.stringify(report.failures),
    );
  });
  test(`deleting each revealed field of ${shown(d)} fails, naming the record`, async () => {
    for (const path of Object.keys(d.revealed)) {
      const { [path]: _gone, ...kept } = d.revealed;
      const disclosures = doc.disclosures.map((x, i) => (i === n ? { ...x, revealed: kept } : x));
      const report = await verifyOffline({ ...doc, disclosures }, trust);
      assert.ok(
        report.failures.some((f) => f.where.includes(`(${d.kind} ${d.subject})`)),
        `${path}: ${JSON.stringify(report.failures)}`,
      );
    }
  });
}
