// Bytes, hex, hashes and addresses: thin wrappers over @noble/hashes.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export { bytesToHex, hexToBytes, utf8ToBytes };

export const keccak = (bytes) => keccak_256(bytes);
export const sha256Hex = (bytes) => bytesToHex(sha256(bytes));
export const hex0x = (bytes) => '0x' + bytesToHex(bytes);

export class ProofError extends Error {
  constructor(what, reason) {
    super(`${what}: ${reason}`);
    this.what = what;
    this.reason = reason;
  }
}

export function fromHex0x(value, what) {
  if (typeof value !== 'string' || !value.startsWith('0x') || value.length % 2 !== 0 || !/^0x[0-9a-fA-F]*$/.test(value)) {
    throw new ProofError(what, 'not hex');
  }
  return hexToBytes(value.slice(2));
}

export function toBigInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

export function word(n) {
  return hexToBytes(n.toString(16).padStart(64, '0'));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** EIP-55 checksummed address of 20 bytes or a hex string. */
export function checksum(address) {
  const hex = (typeof address === 'string' ? address.slice(2) : bytesToHex(address)).toLowerCase();
  const hash = bytesToHex(keccak(utf8ToBytes(hex)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i];
  return out;
}

export function addressOf(value) {
  return checksum('0x' + value.toString(16).padStart(40, '0'));
}

export function countryOf(value) {
  const code = Number(value);
  return String.fromCharCode(code >> 8, code & 0xff);
}

/** base64 -> gunzip, capped at ``max`` bytes (a gzip bomb is refused). */
export async function gunzipBase64(text, max) {
  const raw = atob(text);
  const packed = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) packed[i] = raw.charCodeAt(i);
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new Error(`more than ${max} bytes`);
    }
    chunks.push(value);
  }
  return concat(...chunks);
}
