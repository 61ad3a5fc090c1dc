// The shared test vectors (viewer/test/vectors, written by scripts/make_viewer_vectors.py) through
// the browser verifier: the same outcomes tests/evidence/test_vectors.py asserts for Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { verifyOffline } from '../../build/viewer/verify.mjs';

const dir = new URL('./vectors/', import.meta.url);
const read = (name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

for (const name of read('index.json')) {
  test(`vector ${name}`, async () => {
    const v = read(`${name}.json`);
    const report = await verifyOffline(v.passport, read(v.trust));
    const failures = report.failures.map((f) => `${f.where}: ${f.reason}`);
    if (v.expect.ok) {
      assert.deepEqual(failures, []);
      assert.equal(report.policies.length, 2);
    } else {
      assert.ok(
        report.failures.some((f) => f.where.startsWith(v.expect.where) && f.reason.includes(v.expect.reason)),
        `expected ${v.expect.where} (${v.expect.reason}), got:\n${failures.join('\n')}`,
      );
    }
  });
}
