// A CometBFT network's passport: its EVM headers proven by the quorum's commits, as
// passport/evidence/quorum.py proves them (same steps, names and failures).
import { bytesToHex } from '@noble/hashes/utils.js';
import { ProofError } from './util.js';
import * as cometbft from './cometbft.js';

const upper = (bytes) => bytesToHex(bytes).toUpperCase();

/** The anchor's header and validator set, checked against each other. */
export function trustedState(anchor) {
  const c = anchor.cometbft;
  const header = cometbft.readHeader(c.header, 'trust anchor header');
  const validators = cometbft.readValidators(
    c.validators.map((v) => ({ address: v.address, pub_key: v.pub_key, voting_power: v.voting_power })),
    'trust anchor validators');
  if (header.chainId !== c.chain_id || header.height !== BigInt(c.height)) {
    throw new ProofError('trust anchor header', "is not the header of the anchor's chain id and height");
  }
  if (upper(header.validatorsHash) !== upper(cometbft.validatorsHash(validators))) {
    throw new ProofError('trust anchor validators', "do not hash to the trusted header's validators_hash");
  }
  return { header, validators };
}

function lightBlock(signed, sets, what) {
  if (signed === null || typeof signed !== 'object') throw new ProofError(what, 'not a signed header');
  const wanted = signed.header?.validators_hash;
  const validators = typeof wanted === 'string' ? sets?.[wanted] : undefined;
  if (validators === undefined) throw new ProofError(what, `no validator set with the header's validators_hash ${wanted}`);
  return cometbft.readLightBlock({ signed_header: signed, validator_set: { validators } }, what);
}

/** Who committed the anchor block, by name where the trust anchor names them. */
export function quorum(tally, anchor, height) {
  const names = new Map(anchor.cometbft.validators.map((v) => [v.address, v.name || v.account || v.address]));
  const signers = tally.signers.map((v) => names.get(upper(v.address)) ?? `validator ${upper(v.address).slice(0, 12)}`);
  return { height: Number(height), signers, signed: signers.length, validators: tally.setSize, percent: tally.percent };
}

export const describe = (q) =>
  `signed by ${q.signed} of ${q.validators} validators, ${Math.round(q.percent)} % of the power: ${q.signers.join(', ')}`;

/** [quorum or null, failures as [where, why]]. */
export function check(consensus, anchor, chain, now = cometbft.now()) {
  if (!consensus) return [null, [['evidence.consensus', "no CometBFT commits, and the trust anchor is a CometBFT network's"]]];
  const period = BigInt(anchor.cometbft.trusting_period_seconds);
  let tally, states, path;
  const sets = consensus.validator_sets ?? {};
  try {
    const trusted = trustedState(anchor);
    path = (consensus.path ?? []).map((s, n) => lightBlock(s, sets, `evidence.consensus.path[${n}]`));
    [tally, states] = cometbft.verifyPath(trusted, path, period, now, 'evidence.consensus.path');
  } catch (exc) {
    if (!(exc instanceof ProofError)) throw exc;
    return [null, [[exc.what, exc.reason]]];
  }
  const failures = [];
  const a = chain.anchor;
  const last = path[path.length - 1];
  if (last.height !== BigInt(a.number) + 1n) {
    failures.push(['evidence.consensus.path', `ends at height ${last.height}; the anchor block ${a.number} is proven by height ${a.number + 1}`]);
  } else if (bytesToHex(last.header.appHash) !== bytesToHex(a.hash)) {
    failures.push(['evidence.consensus.path',
      `the app_hash at height ${last.height} is 0x${bytesToHex(last.header.appHash)}, not the anchor block's hash 0x${bytesToHex(a.hash)}`]);
  }
  const proven = new Set(failures.length ? [] : [bytesToHex(a.hash)]);
  (consensus.commits ?? []).forEach((signed, n) => {
    const what = `evidence.consensus.commits[${n}]`;
    let block;
    try {
      block = lightBlock(signed, sets, what);
      cometbft.verifyVouched(states, block, period, now, what);
    } catch (exc) {
      if (!(exc instanceof ProofError)) throw exc;
      failures.push([exc.what, exc.reason]);
      return;
    }
    const match = [...chain.headers.values()].find(
      (h) => BigInt(h.number) === block.height - 1n && bytesToHex(h.hash) === bytesToHex(block.header.appHash));
    if (!match) failures.push([what, `its app_hash is the hash of no evidence header of block ${block.height - 1n}`]);
    else proven.add(bytesToHex(match.hash));
  });
  const frontier = [...proven];
  while (frontier.length) {
    const header = chain.headers.get(frontier.pop());
    const parent = header ? bytesToHex(header.parentHash) : null;
    if (parent !== null && chain.headers.has(parent) && !proven.has(parent)) {
      proven.add(parent);
      frontier.push(parent);
    }
  }
  [...chain.headers.values()].forEach((h, n) => {
    if (!proven.has(bytesToHex(h.hash)) && !failures.length) {
      failures.push([`evidence header ${n} (block ${h.number})`, 'proven by no commit and linked to none by parentHash']);
    }
  });
  return [quorum(tally, anchor, last.height), failures];
}
