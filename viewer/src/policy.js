// Names for people (passport/records/names.py) and policy checks (passport/core/policy.py).
import dfars from '../../passport/policies/dfars-2027.json';
import eu from '../../passport/policies/eu-2017-821.json';
import { keyOf } from './disclosure.js';

export const WITHHELD = 'withheld';
export const BUILTIN = { 'dfars-2027': dfars, 'eu-2017-821': eu };
const pyRepr = (s) => (s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
const str = (v) => (typeof v === 'string' ? v : v === true ? 'True' : v === false ? 'False' : v === null ? 'None' : JSON.stringify(v));

export class Names {
  constructor(doc) {
    this.byKey = new Map();
    for (const d of doc.disclosures ?? []) if (!this.byKey.has(keyOf(d))) this.byKey.set(keyOf(d), d);
    this.operators = new Map(doc.facilities.map((f) => [f.facility_id, f.operator]));
  }
  field(kind, subject, path) {
    const d = this.byKey.get(`${kind}:${String(subject).toLowerCase()}`);
    if (!d) return null;
    return path in d.revealed ? str(d.revealed[path].value) : WITHHELD;
  }
  disclosed(kind, subject) {
    return this.byKey.has(`${kind}:${String(subject).toLowerCase()}`);
  }
  member(address) {
    let trading = this.field('member', address, 'tradingName');
    if (trading === null || trading === WITHHELD) trading = this.field('member', address, 'legalName');
    if (trading === null) return address;
    if (trading === WITHHELD) return `${address} (name withheld)`;
    return `${trading} (${address.slice(0, 6)}…${address.slice(-4)})`;
  }
  facility(id, country) {
    const name = this.field('facility', id, 'name');
    const operator = this.operators.get(id);
    let company = null;
    if (operator !== undefined) {
      company = this.field('member', operator, 'tradingName');
      if (company === null || company === WITHHELD) company = this.field('member', operator, 'legalName') || company;
    }
    if (name === null && company === null) return `facility ${id} (${country})`;
    const place = name !== null && name !== WITHHELD ? name : `facility ${id}`;
    const who = company !== null && company !== WITHHELD ? ` — ${company}` : '';
    const city = this.field('facility', id, 'address.city');
    let where = city !== null && city !== WITHHELD ? `${city}, ${country}` : country;
    const hidden = [['name', name], ['operator', company]].filter(([, v]) => v === WITHHELD).map(([w]) => w);
    if (hidden.length) where += `; ${hidden.join(' and ')} withheld`;
    return `${place}${who} (${where})`;
  }
}

function evaluate(rule, doc) {
  if (rule.type === 'forbidden-countries') {
    const forbidden = new Set(rule.countries);
    const out = [];
    for (const step of rule.steps) {
      for (const country of doc.stage_countries[step] ?? []) {
        if (forbidden.has(country)) out.push(`${step} in ${country} (forbidden by ${[...forbidden].sort().join(', ')})`);
      }
    }
    return out;
  }
  if (rule.type === 'untainted') {
    const out = [];
    const countries = new Map(doc.facilities.map((f) => [f.facility_id, f.country]));
    const names = new Names(doc);
    for (const s of doc.taint.sources) {
      if (s.reason === 'sanctioned-facility' && s.facility_id != null) {
        let site = `facility ${s.facility_id}`;
        if (names.disclosed('facility', s.facility_id)) site = names.facility(s.facility_id, countries.get(s.facility_id) ?? '??');
        out.push(`tainted: batch ${s.batch_id} comes from sanctioned ${site}`);
      } else if (s.reason === 'regulator') {
        out.push(`tainted: batch ${s.batch_id} was flagged by a regulator`);
      }
    }
    if (doc.taint.tainted && !out.length) out.push('tainted: an ancestor carries inherited taint');
    return out;
  }
  if (rule.type === 'disclosed-field') {
    const names = new Names(doc);
    const out = [];
    for (const f of doc.facilities) {
      if (!rule.kinds.includes(f.kind)) continue;
      const value = names.field('facility', f.facility_id, rule.field);
      const who = names.facility(f.facility_id, f.country);
      if (value === null) out.push(`${who}: no record disclosed (${rule.field} required)`);
      else if (value === WITHHELD) out.push(`${who}: ${rule.field} withheld`);
    }
    return out;
  }
  if (rule.type === 'origin-attestation') {
    const subject = rule.subject ?? 'facility';
    const kind = subject === 'facility' ? 'FACILITY' : 'BATCH';
    const valid = new Set(doc.attestations.filter((a) => a.schema_name === rule.schema && a.subject_kind === kind && a.status === 'valid').map((a) => a.subject));
    const out = [];
    for (const o of doc.origins) {
      const s = subject === 'facility' ? o.facility_id : o.batch_id;
      if (!valid.has(s)) {
        const what = subject === 'facility' ? new Names(doc).facility(o.facility_id, o.country) : `batch ${o.batch_id}`;
        out.push(`origin batch ${o.batch_id}: no valid ${pyRepr(rule.schema)} attestation on ${what}`);
      }
    }
    return out;
  }
  if (rule.type === 'device-weighed') {
    const kind = rule.kind ?? 'net-mass';
    const unit = rule.unit ?? 'g';
    const bps = rule.tolerance_bps ?? 50;
    const out = [];
    const fmt = (n) => n.toLocaleString('en-US');
    for (const o of doc.origins) {
      const found = (doc.readings ?? []).filter((w) => w.batch_id === o.batch_id && w.reading.kind === kind && w.reading.unit === unit).map((w) => w.reading.value);
      if (!found.length) {
        out.push(`origin batch ${o.batch_id}: no ${kind} reading from a device of its facility`);
        continue;
      }
      const limit = (o.mass_grams * bps) / 10000;
      if (!found.some((v) => Math.abs(v - o.mass_grams) <= limit)) {
        const closest = found.reduce((a, b) => (Math.abs(b - o.mass_grams) < Math.abs(a - o.mass_grams) ? b : a));
        out.push(`origin batch ${o.batch_id}: minted ${fmt(o.mass_grams)} g, the device read ${fmt(closest)} g (tolerance ${bps / 100} %)`);
      }
    }
    return out;
  }
  throw new Error(`unknown rule type ${rule.type}`);
}

export function checkPolicy(doc, policy) {
  const reasons = policy.rules.flatMap((rule) => evaluate(rule, doc));
  return { policy: policy.name, batch_id: doc.product.batch_id, passed: !reasons.length, reasons, tier: doc.tier ?? null };
}
