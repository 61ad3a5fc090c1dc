// Decoding logs of the three contracts by their ABIs (the artifacts the Python package ships).
// The events of the Consortium, MineralPassport and AttestationRegistry ABIs, in that order: read
// from passport/artifacts by the bundler (viewer/build.mjs), so the page carries no bytecode.
import eventAbis from 'virtual:event-abis';
import { keccak, utf8ToBytes, bytesToHex, toBigInt, checksum } from './util.js';

const abiType = (item) =>
  item.type.startsWith('tuple') ? `(${item.components.map(abiType).join(',')})${item.type.slice(5)}` : item.type;

const TABLE = new Map();
for (const abi of eventAbis) {
  for (const item of abi) {
    const t = bytesToHex(keccak(utf8ToBytes(`${item.name}(${item.inputs.map(abiType).join(',')})`)));
    if (!TABLE.has(t)) TABLE.set(t, item);
  }
}

export function topic(name) {
  for (const [t, item] of TABLE) if (item.name === name) return t;
  throw new Error(name);
}

function staticValue(type, w) {
  if (type === 'address') {
    if (w >> 160n) throw new Error('address with high bits set');
    return checksum('0x' + w.toString(16).padStart(40, '0'));
  }
  if (type === 'bool') {
    if (w > 1n) throw new Error('bool out of range');
    return w === 1n;
  }
  if (type.startsWith('bytes')) {
    return '0x' + w.toString(16).padStart(64, '0').slice(0, 2 * Number(type.slice(5)));
  }
  if (type.startsWith('uint')) {
    const bits = BigInt(type.slice(4) || 256);
    if (w >> bits) throw new Error(`${type} out of range`);
    return w <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(w) : w;
  }
  throw new Error(`unsupported ABI type ${type}`);
}

function wordAt(data, offset) {
  if (offset + 32 > data.length) throw new Error('data too short');
  return toBigInt(data.subarray(offset, offset + 32));
}

function decodeData(types, data) {
  return types.map((type, n) => {
    if (type === 'string' || type === 'bytes' || type.endsWith('[]')) {
      const at = Number(wordAt(data, 32 * n));
      const length = Number(wordAt(data, at));
      if (type.endsWith('[]')) {
        const inner = type.slice(0, -2);
        return Array.from({ length }, (_, i) => staticValue(inner, wordAt(data, at + 32 + 32 * i)));
      }
      if (at + 32 + length > data.length) throw new Error('data too short');
      const raw = data.subarray(at + 32, at + 32 + length);
      return type === 'string' ? new TextDecoder().decode(raw) : '0x' + bytesToHex(raw);
    }
    return staticValue(type, wordAt(data, 32 * n));
  });
}

/** A log as bytes -> {name, args, block, log_index, tx_hash, address}, or null for unknown events. */
export function decodeParts(address, topics, data, block, logIndex, txHash) {
  if (!topics.length) return null;
  const item = TABLE.get(bytesToHex(topics[0]));
  if (!item) return null;
  const indexed = item.inputs.filter((i) => i.indexed);
  const plain = item.inputs.filter((i) => !i.indexed);
  if (topics.length - 1 !== indexed.length) return null;
  const args = {};
  indexed.forEach((input, n) => {
    if (topics[n + 1].length !== 32) throw new Error('topic is not 32 bytes');
    args[input.name] = staticValue(abiType(input), toBigInt(topics[n + 1]));
  });
  decodeData(plain.map(abiType), data).forEach((value, n) => {
    args[plain[n].name] = value;
  });
  return { name: item.name, args, block, log_index: logIndex, tx_hash: txHash, address: checksum(address) };
}
