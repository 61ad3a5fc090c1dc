// The CometBFT light-client vectors (viewer/test/vectors/cometbft, from a real network) through the
// page's verifier: the same outcomes tests/evidence/test_cometbft_vectors.py asserts for Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cometbft } from '../../build/viewer/verify.mjs';

const dir = new URL('./vectors/cometbft/', import.meta.url);
const read = (name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const hex = (bytes) => Buffer.from(bytes).toString('hex').toUpperCase();

function run(v) {
  const trusted = {
    header: cometbft.readHeader(v.trusted.header, 'trusted'),
    validators: cometbft.readValidators(v.trusted.validators, 'trusted'),
  };
  const blocks = v.path.map((b, n) => cometbft.readLightBlock(b, `path[${n}]`));
  const now = cometbft.Time.parse(v.now, 'now');
  const [tally] = cometbft.verifyPath(trusted, blocks, BigInt(v.trusting_period_seconds), now, 'path');
  return [tally, blocks];
}

for (const name of read('index.json')) {
  test(`cometbft vector ${name}`, () => {
    const v = read(`${name}.json`);
    if (v.expect.ok) {
      const [tally, blocks] = run(v);
      assert.equal(blocks[blocks.length - 1].height, BigInt(v.expect.height));
      assert.deepEqual(tally.signers.map((s) => hex(s.address)), v.expect.signers);
      assert.equal(tally.signedPower, BigInt(v.expect.signed_power));
      assert.equal(tally.totalPower, BigInt(v.expect.total_power));
    } else {
      assert.throws(() => run(v), (error) => {
        assert.ok(error.what?.startsWith(v.expect.where), `${error.what}: ${error.reason}`);
        assert.ok(error.reason.includes(v.expect.reason), `${error.what}: ${error.reason}`);
        return true;
      });
    }
  });
}

test('header and validator-set hashes are what CometBFT signed', () => {
  const network = read('network.json');
  for (const key of ['trusted', 'adjacent', 'skipping', 'middle', 'last']) {
    const signed = network[key].signed_header;
    assert.equal(hex(cometbft.headerHash(cometbft.readHeader(signed.header, key))), signed.commit.block_id.hash);
    const set = cometbft.readValidators(network[key].validator_set.validators, key);
    assert.equal(hex(cometbft.validatorsHash(set)), signed.header.validators_hash);
  }
});

test('times parse to the Python verifier\'s seconds', () => {
  assert.equal(cometbft.Time.parse('1970-01-01T00:00:01.5Z', 't').seconds, 1n);
  assert.equal(cometbft.Time.parse('1970-01-01T00:00:01.5Z', 't').nanos, 500000000n);
  assert.equal(cometbft.Time.parse('0001-01-01T00:00:00Z', 't').seconds, -62135596800n);
  assert.equal(cometbft.Time.parse('2026-12-06T08:27:30.245201Z', 't').seconds, 1796545650n);
});
