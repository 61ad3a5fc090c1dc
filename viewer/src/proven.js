// Chain data out of an evidence bundle, as passport/evidence/proven.py: headers by hash, accounts
// and storage slots by Merkle-Patricia proof (walked by @ethereumjs/mpt over the bundle's node
// pool) against the anchor block's state root, and events from receipts proven against their
// blocks' receipts roots. Nothing in the bundle is taken on its word except through a proof.
import { RLP } from '@ethereumjs/rlp';
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import {
  ProofError, keccak, bytesToHex, hexToBytes, toBigInt, word, fromHex0x, hex0x, gunzipBase64,
} from './util.js';
import { decodeParts, topic } from './events.js';
import * as layout from './layout.js';

export const MAX_PROOF_BYTES = 64 * 1024 * 1024;
const EMPTY_ROOT = bytesToHex(keccak(RLP.encode(new Uint8Array())));
const TRANSFER = topic('Transfer');
const PRODUCED = topic('BatchProduced');

/** The packed proofs -> [headers, seals, nodes]; throws ProofError('evidence.proofs', ...). */
export async function unpack(proofs) {
  let lists;
  try {
    if (typeof proofs !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(proofs)) throw new Error('not base64');
    lists = RLP.decode(await gunzipBase64(proofs, MAX_PROOF_BYTES));
  } catch (exc) {
    throw new ProofError('evidence.proofs', `unreadable (${exc.message})`);
  }
  const ok = Array.isArray(lists) && lists.length === 3 && lists.every((x) => Array.isArray(x) && x.every((i) => i instanceof Uint8Array));
  if (!ok) throw new ProofError('evidence.proofs', 'unreadable (not the lists [headers, seals, nodes])');
  if (lists[0].length !== lists[1].length) {
    throw new ProofError('evidence.proofs', `unreadable (${lists[0].length} headers but ${lists[1].length} seals)`);
  }
  return lists;
}

export function decodeHeader(encoded, seal, what) {
  let fields;
  try {
    fields = RLP.decode(encoded);
  } catch (exc) {
    throw new ProofError(what, `not an RLP header (${exc.message})`);
  }
  if (!Array.isArray(fields) || fields.length < 15 || !fields.every((f) => f instanceof Uint8Array)) {
    throw new ProofError(what, 'not a block header (a list of at least 15 byte strings)');
  }
  return {
    hash: keccak(encoded),
    number: Number(toBigInt(fields[8])),
    timestamp: Number(toBigInt(fields[11])),
    parentHash: fields[0],
    stateRoot: fields[3],
    transactionsRoot: fields[4],
    receiptsRoot: fields[5],
    seal: seal && seal.length ? seal : null,
  };
}

/** Trie nodes by the hex of their keccak, as the MPT's database; remembers which were read. */
class Pool {
  constructor(nodes) {
    this.nodes = new Map(nodes.map((n) => [bytesToHex(keccak(n)), n]));
    this.read = new Set();
  }
  async get(key) {
    const value = this.nodes.get(key);
    if (value !== undefined) this.read.add(key);
    return value;
  }
  async put() { throw new Error('read-only'); }
  async del() { throw new Error('read-only'); }
  async batch() { throw new Error('read-only'); }
  shallowCopy() { return this; }
  async open() {}
}

export class ProvenChain {
  static async create(evidence) {
    const [headers, seals, nodes] = await unpack(evidence.proofs);
    return new ProvenChain(evidence, headers, seals, nodes);
  }

  constructor(evidence, headers, seals, nodes) {
    this.evidence = evidence;
    this.headers = new Map();
    headers.forEach((encoded, n) => {
      const h = decodeHeader(encoded, seals[n], `evidence header ${n}`);
      const key = bytesToHex(h.hash);
      if (this.headers.has(key)) throw new ProofError(`evidence header ${n}`, 'the same header twice');
      this.headers.set(key, h);
    });
    const anchor = this.headers.get(bytesToHex(fromHex0x(evidence.anchor, 'evidence.anchor')));
    if (!anchor) throw new ProofError('evidence.anchor', "no header with the anchor block's hash");
    this.anchor = anchor;
    this.pool = new Pool(nodes);
    this.tries = new Map();
    this.accounts = new Map();
    this.slots = new Map();
  }

  /** The value at ``key`` in the trie at ``root`` (empty when the proof shows it absent). */
  async walk(root, key, what) {
    const rootHex = bytesToHex(root);
    if (rootHex === EMPTY_ROOT) return new Uint8Array();
    let trie = this.tries.get(rootHex);
    if (!trie) {
      trie = new MerklePatriciaTrie({ db: this.pool, root, useKeyHashing: false, cacheSize: 0 });
      this.tries.set(rootHex, trie);
    }
    try {
      const value = await trie.get(key, true);
      return value ?? new Uint8Array();
    } catch (exc) {
      if (String(exc.message).includes('Missing node')) throw new ProofError(what, 'a proof node is missing');
      throw new ProofError(what, `malformed proof node (${exc.message})`);
    }
  }

  /** [nonce, balance, storage root, code hash] of ``address`` at the anchor block. */
  async account(address) {
    const a = address.toLowerCase();
    if (!this.accounts.has(a)) {
      const what = `account proof of ${address}`;
      const raw = await this.walk(this.anchor.stateRoot, keccak(hexToBytes(a.slice(2))), what);
      if (!raw.length) throw new ProofError(what, 'the account does not exist at the anchor block');
      let fields;
      try {
        fields = RLP.decode(raw);
        if (!Array.isArray(fields) || fields.length !== 4) throw new Error('not 4 fields');
      } catch (exc) {
        throw new ProofError(what, `not an account (${exc.message})`);
      }
      this.accounts.set(a, fields);
    }
    return this.accounts.get(a);
  }

  /** The word (BigInt) at ``slot`` of ``address`` at the anchor block. */
  async storage(address, slot, what) {
    const key = `${address.toLowerCase()}:${slot}`;
    if (!this.slots.has(key)) {
      const root = (await this.account(address))[2];
      const raw = await this.walk(root, keccak(word(slot)), `storage proof of ${what}`);
      let value = 0n;
      if (raw.length) {
        try {
          value = toBigInt(RLP.decode(raw));
        } catch (exc) {
          throw new ProofError(`storage proof of ${what}`, `not a storage value (${exc.message})`);
        }
      }
      this.slots.set(key, value);
    }
    return this.slots.get(key);
  }

  async string(address, slot, what) {
    const w = await this.storage(address, slot, what);
    const data = [];
    for (const s of layout.stringDataSlots(slot, w)) data.push(await this.storage(address, s, `${what} (data)`));
    return layout.stringOf(w, data);
  }

  /** Every decoded log of the listed receipts of the three contracts, in chain order. */
  async events(chain) {
    if (this._events) return this._events;
    const out = [];
    const seen = new Set();
    const ours = new Set([chain.passport, chain.consortium, chain.registry].map((a) => a.toLowerCase().slice(2)));
    for (const [n, ref] of this.evidence.receipts.entries()) {
      const what = `receipt proof evidence.receipts[${n}]`;
      const header = this.headers.get(bytesToHex(fromHex0x(ref.block, what)));
      if (!header) throw new ProofError(what, `no header for block ${ref.block}`);
      if (header.number > this.anchor.number) {
        throw new ProofError(what, `block ${header.number} is after the anchor block ${this.anchor.number}`);
      }
      const seenKey = `${bytesToHex(header.hash)}:${ref.index}`;
      if (seen.has(seenKey)) throw new ProofError(what, 'listed twice');
      seen.add(seenKey);
      const key = RLP.encode(ref.index);
      const tx = await this.walk(header.transactionsRoot, key, `transaction proof evidence.receipts[${n}]`);
      const receipt = await this.walk(header.receiptsRoot, key, what);
      if (!tx.length || !receipt.length) throw new ProofError(what, `block ${header.number} has no transaction ${ref.index}`);
      const txHash = hex0x(keccak(tx));
      for (const [position, log] of logsOf(receipt, what).entries()) {
        const [address, topics, data] = log;
        if (!ours.has(bytesToHex(address))) continue;
        const t0 = topics.length ? bytesToHex(topics[0]) : '';
        if (t0 === PRODUCED || (t0 === TRANSFER && topics.length > 1 && topics[1].every((b) => b === 0))) continue;
        let event;
        try {
          event = decodeParts(address, topics, data, header.number, ref.index * 65536 + position, txHash);
        } catch (exc) {
          throw new ProofError(what, `log ${position} does not decode (${exc.message})`);
        }
        if (event) out.push(event);
      }
    }
    out.sort((a, b) => a.block - b.block || a.log_index - b.log_index);
    this._events = out;
    return out;
  }

  unreadNodes() {
    let n = 0;
    for (const key of this.pool.nodes.keys()) if (!this.pool.read.has(key)) n++;
    return n;
  }
}

function logsOf(receipt, what) {
  const payload = receipt[0] < 0x7f ? receipt.subarray(1) : receipt;
  let fields;
  try {
    fields = RLP.decode(payload);
    if (!Array.isArray(fields) || fields.length !== 4 || !Array.isArray(fields[3])) throw new Error('not 4 fields');
  } catch (exc) {
    throw new ProofError(what, `not a receipt (${exc.message})`);
  }
  if (toBigInt(fields[0]) !== 1n) throw new ProofError(what, 'the transaction failed');
  return fields[3];
}
