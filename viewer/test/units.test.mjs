// Unit tests of the browser verifier's parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import * as v from '../../build/viewer/verify.mjs';

test('storage slots follow Solidity: mapping(uint => ...) at slot 0, key 1', () => {
  // keccak(uint256(1) . uint256(0)), a well-known value.
  assert.equal(v.layout.recordSlot(1).toString(16), 'ada5013122d395ba3c54772283fb069b10426056ef8ca54750cb9bb552a59e7d');
  assert.equal(v.layout.arrayData(0n).toString(16), '290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563');
});

test('packed struct fields are read from their byte offsets', () => {
  const word = (0x01n << (8n * 31n)) | (0x0102n << (8n * 29n)) | (7n << (8n * 25n)) | 0xabcdefn;
  assert.equal(v.layout.field(word, 'Record', 'history'), 1n);
  assert.equal(v.layout.field(word, 'Record', 'country'), 0x0102n);
  assert.equal(v.layout.field(word, 'Record', 'facilityId'), 7n);
  assert.equal(v.layout.field(word, 'Record', 'owner'), 0xabcdefn);
});

test('storage strings, short and long', () => {
  const short = (BigInt('0x' + Buffer.from('ipfs://').toString('hex').padEnd(62, '0')) << 8n) | 14n;
  assert.equal(v.layout.stringOf(short, []), 'ipfs://');
  const text = 'x'.repeat(40);
  const data = [BigInt('0x' + Buffer.from(text.slice(0, 32)).toString('hex')), BigInt('0x' + Buffer.from(text.slice(32)).toString('hex').padEnd(64, '0'))];
  assert.equal(v.layout.stringOf(81n, data), text);
  assert.throws(() => v.layout.stringOf(81n, data.slice(0, 1)), /missing/);
});

test('seal signer: recovers the signing validator, null for garbage', () => {
  const key = secp256k1.utils.randomSecretKey();
  const address = v.checksum(keccak_256(secp256k1.getPublicKey(key, false).subarray(1)).subarray(12));
  const blockHash = keccak_256(new Uint8Array([1, 2, 3]));
  const domain = new TextEncoder().encode('\x19Mineral Passport block seal:\n');
  const chainId = new Uint8Array(32);
  chainId[31] = 7;
  const digest = keccak_256(new Uint8Array([...domain, ...chainId, ...blockHash]));
  const sig = secp256k1.sign(digest, key, { prehash: false, format: 'recovered' });
  // noble's recovered format puts the recovery byte first; the node's seal is r || s || v.
  const seal = new Uint8Array([...sig.subarray(1), sig[0]]);
  assert.equal(v.sealSigner(7, blockHash, seal), address);
  assert.notEqual(v.sealSigner(8, blockHash, seal), address);
  assert.equal(v.sealSigner(7, blockHash, new Uint8Array(65).fill(0)), null);
  assert.equal(v.sealSigner(7, blockHash, seal.subarray(0, 64)), null);
});

test('diff names every differing leaf by its JSON path, null equal to missing', () => {
  const a = { x: 1, y: [1, 2, { z: 'a' }], n: null };
  const b = { x: 1, y: [1, 3, { z: 'b' }, 4] };
  assert.deepEqual(v.diff(a, b).map((m) => m.path), ['y[1]', 'y[2].z', 'y[3]']);
});

test('disclosure leaves are OpenZeppelin standard leaves of (path, JCS value, salt)', () => {
  const salt = '0x' + '01'.repeat(32);
  const leaves = ['a', 'b', 'c'].map((p, n) => v.leafHash(p, { n, name: 'Mine' }, salt));
  const tree = SimpleMerkleTree.of(leaves);
  const multi = tree.getMultiProof([0, 2]);
  const d = { kind: 'facility', subject: '1', root: tree.root, revealed: {}, withheld: {}, proof: multi.proof, flags: multi.proofFlags };
  // Reveal the two leaves the multiproof covers, withhold the third.
  const byLeaf = new Map(['a', 'b', 'c'].map((p, n) => [leaves[n], [p, n]]));
  for (const leaf of multi.leaves) {
    const [p, n] = byLeaf.get(leaf);
    d.revealed[p] = { value: { n, name: 'Mine' }, salt, leaf };
  }
  for (const [leaf, [p]] of byLeaf) if (!multi.leaves.includes(leaf)) d.withheld[p] = leaf;
  assert.deepEqual(v.checkDisclosure(d), []);
  const bad = structuredClone(d);
  bad.revealed[Object.keys(bad.revealed)[0]].value = { n: 9, name: 'Mine' };
  assert.match(v.checkDisclosure(bad)[0][0], /^disclosure facility 1 field /);
});

test('lineage layout: origins first, every node placed once', () => {
  const placed = v.layoutDag([1, 2, 3, 4], [{ parent: 1, child: 3 }, { parent: 2, child: 3 }, { parent: 3, child: 4 }], 4);
  assert.equal(placed.columns, 3);
  assert.deepEqual([1, 2, 3, 4].map((i) => placed.at.get(i).col), [0, 0, 1, 2]);
});

test('a bundle that is not base64-gzip-RLP fails as evidence.proofs', async () => {
  await assert.rejects(v.unpack('!!!'), (e) => e.what === 'evidence.proofs');
  await assert.rejects(v.unpack(Buffer.from('not gzip').toString('base64')), (e) => e.what === 'evidence.proofs');
});
