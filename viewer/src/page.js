// The passport page: verifies the embedded passport against the embedded trust anchor with
// verify.js, then draws the verdict, product, lineage graph, countries, custody, attestations,
// policies, names and telemetry. Every value from the file goes in as text, never as markup.
import { verifyOffline, describeQuorum } from './verify.js';
import { BUILTIN, Names, WITHHELD } from './policy.js';
import { layoutDag } from './graph.js';

const SVG = 'http://www.w3.org/2000/svg';

function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const kg = (g) => `${(g / 1000).toLocaleString('en-GB', { maximumFractionDigits: 3 })} kg`;
const date = (t) => (t ? new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—');
const short = (hex) => (typeof hex === 'string' && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : String(hex));

function section(title, id, ...body) {
  return h('section', { id }, h('h2', {}, title), ...body);
}

function table(head, rows, cls = 'cards') {
  return h('div', { class: 'scroll' }, h('table', { class: cls },
    h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, n) => h('td', { 'data-label': head[n] }, c)))))));
}

function anchorLine(report) {
  const a = report.anchor;
  if (!a) return null;
  const g = a.genesis_hash ?? '';
  return h('div', { id: 'anchor', class: 'note' },
    `Trust anchor: ${a.name}, ${report.validators} validator${report.validators === 1 ? '' : 's'}, genesis ${g.slice(0, 10)}…${g.slice(-6)}, fingerprint ${a.fingerprint.slice(0, 23)}… (compare with the consortium's)`);
}

function tierLine(report) {
  const t = report.tier;
  if (!t) return null;
  return h('div', { id: 'tier', class: `note ${t.complete ? '' : 'fail'}`, 'data-complete': String(t.complete) },
    `Disclosed at the ${t.name} tier (${t.fingerprint.slice(0, 23)}…): `,
    t.complete ? 'every lineage record on chain is disclosed with every field the tier reveals'
      : 'INCOMPLETE, the exporter lacked records the tier reveals (see the notes)');
}

/** The second answer, under the first: compliant or not, each policy with its description. */
function compliance(report) {
  if (!report.ok || !report.policies.length) return null;
  const failed = report.policies.filter((p) => !p.passed);
  return h('div', { id: 'compliance', class: `verdict ${failed.length ? 'bad' : 'ok'}`, role: 'status' },
    h('strong', {}, failed.length ? 'Not compliant' : 'Compliant'),
    failed.length ? ` with ${failed.map((p) => p.policy).join(', ')}` : ` with ${report.policies.map((p) => p.policy).join(', ')}`,
    h('ul', {}, report.policies.map((p) => h('li', { 'data-compliance': p.policy },
      h('strong', {}, `${p.policy}: ${p.passed ? 'pass' : 'FAIL'}`),
      p.reasons.length ? ` (${p.reasons.join('; ')})` : '',
      BUILTIN[p.policy]?.description ? h('div', { class: 'note' }, BUILTIN[p.policy].description) : null))));
}

function banner(report) {
  if (report.ok) {
    return h('div', { id: 'verdict', class: 'verdict ok', role: 'status' },
      h('strong', {}, 'Authentic'),
      ` against ${report.consortium} (${report.validators} validator${report.validators === 1 ? '' : 's'}) at block ${report.as_of_block}, ${date(report.as_of_time)}`,
      report.quorum ? h('div', { id: 'quorum', class: 'note' }, `Block ${report.as_of_block} committed by the consortium's validators: ${describeQuorum(report.quorum)}.`) : null,
      anchorLine(report),
      tierLine(report),
      report.notes.length ? h('div', { class: 'note' }, report.notes.join('; ')) : null);
  }
  return h('div', { id: 'verdict', class: 'verdict bad', role: 'alert' },
    h('strong', {}, 'Not authentic'),
    ` against ${report.consortium} (${report.validators} validator${report.validators === 1 ? '' : 's'}): ${report.failures.length} claim(s) or proof(s) fail`,
    h('ul', { id: 'failures' }, report.failures.slice(0, 200).map((f) => h('li', { class: 'failure' }, h('code', {}, f.where), `: ${f.reason}`))),
    report.failures.length > 200 ? h('div', {}, `… and ${report.failures.length - 200} more`) : null);
}

/** A site's disclosed name, short enough for a lineage box; else its id. */
function siteLabel(names, id) {
  const name = names.field('facility', id, 'name');
  if (name === null || name === WITHHELD) return `facility ${id}`;
  return name.length > 14 ? `${name.slice(0, 13)}…` : name;
}

/** What the file says about a site's sanction, at the passport's block. */
function sanction(f, block) {
  const who = [f.sanctioned ? 'site' : null, f.operator_sanctioned ? 'operator' : null].filter(Boolean);
  return who.length ? h('span', { class: 'fail' }, `${who.join(' and ')} sanctioned (at block ${block})`) : 'no';
}

/** A disclosed value as a reader reads it: a file by name, type, size and hash; a list joined. */
function readable(value) {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'sha256' in value) {
    return `${value.name ?? 'file'} (${value.mediaType ?? '?'}, ${Number(value.size ?? 0).toLocaleString('en-GB')} bytes, sha256 ${short(value.sha256)})`;
  }
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (value && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function records(doc, names) {
  const rows = [];
  for (const d of doc.disclosures ?? []) {
    const what = d.kind === 'member' ? names.member(d.subject) : d.kind === 'facility' ? siteLabel(names, Number(d.subject)) : `batch #${d.subject}`;
    for (const [path, f] of Object.entries(d.revealed ?? {}).sort()) rows.push([`${d.kind} ${what}`, path, readable(f.value)]);
    for (const path of Object.keys(d.withheld ?? {}).sort()) rows.push([`${d.kind} ${what}`, path, h('em', { class: 'withheld' }, 'withheld')]);
  }
  return rows.length
    ? [table(['Record', 'Field', 'Value'], rows), h('p', { class: 'legend' }, 'Each value is proven against its record\'s root on chain; a withheld field is committed in that root but not shown at this tier.')]
    : [h('p', {}, 'No records are disclosed with this passport.')];
}

function graph(doc, names) {
  const { nodes, edges } = doc.lineage;
  const placed = layoutDag(nodes.map((n) => n.batch_id), edges, doc.product.batch_id);
  const W = 150, H = 58, GX = 60, GY = 18;
  const width = (placed.columns) * (W + GX) + 20;
  const height = Math.max(placed.rows, 1) * (H + GY) + 20;
  const pos = (id) => ({ x: 10 + placed.at.get(id).col * (W + GX), y: 10 + placed.at.get(id).row * (H + GY) });
  const svg = h('svg:svg', { id: 'lineage-graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `lineage of batch ${doc.product.batch_id}: ${nodes.length} batches` });
  for (const e of edges) {
    const a = pos(e.parent), b = pos(e.child);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    let d = `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`;
    if (x2 - x1 > GX + 1) {
      // Across other columns: along the gap between two rows (no box is there), nearest the line.
      const gaps = Array.from({ length: placed.rows + 1 }, (_, r) => 10 + r * (H + GY) - GY / 2);
      const mid = (y1 + y2) / 2;
      const y = gaps.reduce((best, g) => (Math.abs(g - mid) < Math.abs(best - mid) ? g : best), gaps[0]);
      const ax = x1 + GX / 2, bx = x2 - GX / 2;
      d = `M${x1},${y1} C${ax},${y1} ${x1},${y} ${ax},${y} H${bx} C${x2},${y} ${bx},${y2} ${x2},${y2}`;
    }
    svg.append(h('svg:path', { class: `edge ${e.via}`, d },
      h('svg:title', {}, e.via === 'process' ? `processing step ${e.process_id}` : 'split')));
  }
  for (const n of nodes) {
    const { x, y } = pos(n.batch_id);
    const cls = ['node', n.tainted ? 'tainted' : '', n.batch_id === doc.product.batch_id ? 'product' : ''].join(' ');
    svg.append(h('svg:g', { class: cls, 'data-batch': n.batch_id, transform: `translate(${x},${y})` },
      h('svg:rect', { width: W, height: H, rx: 6 }),
      h('svg:text', { x: 8, y: 18, class: 'stage' }, `#${n.batch_id} ${n.stage}`),
      h('svg:text', { x: 8, y: 34 }, `${kg(n.mass_grams)} · ${n.country}`),
      h('svg:text', { x: 8, y: 50, class: 'small' }, `${siteLabel(names, n.facility_id)}${n.tainted ? ' · tainted' : ''}`),
      h('svg:title', {}, names.facility(n.facility_id, n.country))));
  }
  return h('div', { class: 'pan', id: 'lineage-pan', tabindex: 0 }, svg);
}

function render(doc, report, app) {
  const names = new Names(doc);
  const p = doc.product;
  app.replaceChildren(
    banner(report),
    compliance(report),
    section('Product', 'product', h('dl', { class: 'facts' },
      h('dt', {}, 'Batch'), h('dd', {}, `#${p.batch_id}`),
      h('dt', {}, 'Stage'), h('dd', {}, p.stage),
      h('dt', {}, 'Mass'), h('dd', {}, kg(p.mass_grams)),
      h('dt', {}, 'Contained tungsten'), h('dd', {}, kg(p.contained_tungsten_ug != null ? p.contained_tungsten_ug / 1e6 : p.contained_tungsten_grams)),
      h('dt', {}, 'Holder'), h('dd', {}, names.member(p.owner)),
      h('dt', {}, 'Custodian'), h('dd', {}, names.member(p.custodian)),
      h('dt', {}, 'Made at'), h('dd', {}, names.facility(p.facility_id, p.country)),
      h('dt', {}, 'Tier'), h('dd', {}, doc.tier == null ? 'none (no disclosures promised)'
        : `${doc.tier}${report.tier ? (report.tier.complete ? ', checked complete' : ', incomplete') : ''}`),
      doc.version ? [h('dt', {}, 'Version'), h('dd', { class: 'mono' }, short(doc.version.hash))] : null)),
    section('Policies', 'policies', report.policies.length
      ? table(['Policy', 'Result', 'Reasons'], report.policies.map((r) => [
        r.policy, h('span', { class: r.passed ? 'pass' : 'fail', 'data-policy': r.policy }, r.passed ? 'PASS' : 'FAIL'),
        r.reasons.length ? h('ul', {}, r.reasons.map((x) => h('li', {}, x))) : '—']))
      : h('p', {}, 'Policies are checked only when every claim verifies.')),
    section(`Lineage (${doc.lineage.nodes.length} batches)`, 'lineage', graph(doc, names),
      h('p', { class: 'legend' }, 'Solid lines: processing steps; dashed: splits. Red: tainted. Drag or swipe to pan.')),
    section('Countries per step', 'countries', table(['Step', 'Countries'],
      Object.entries(doc.stage_countries).map(([step, cs]) => [step, cs.join(', ')]))),
    section('Custody', 'custody', table(['Time', 'Batch', 'Event', 'From', 'To', 'Measured', 'Block, tx'],
      doc.custody.map((c) => [date(c.time), `#${c.batch_id}`,
        c.type === 'discrepancy' ? h('span', { class: 'fail' }, `discrepancy (recorded ${kg(c.recorded_grams)})`) : c.type + (c.custody_only ? ' (custody only)' : ''),
        c.sender ? names.member(c.sender) : '—', c.receiver ? names.member(c.receiver) : '—',
        c.measured_grams != null ? kg(c.measured_grams) : '—',
        h('span', {}, `${c.block} `, h('code', { class: 'mono', title: c.tx }, short(c.tx)))]))),
    section('Processing', 'transformations', table(['Time', 'Step', 'Where', 'In', 'Out'],
      doc.transformations.map((t) => [date(t.event_time), t.biz_step + (t.process_id != null ? ` ${t.process_id}` : ''),
        names.facility(t.biz_location, t.country),
        t.input_quantity_list.map((q) => `#${q.batch_id} ${kg(q.quantity_grams)}`).join(', '),
        t.output_quantity_list.map((q) => `#${q.batch_id} ${kg(q.quantity_grams)}`).join(', ')]))),
    section('Attestations', 'attestations', doc.attestations.length ? table(['Schema', 'Subject', 'Certifier', 'Status', 'Expires'],
      doc.attestations.map((a) => [a.schema_name,
        a.subject_kind === 'FACILITY' ? names.facility(a.subject, (doc.facilities.find((f) => f.facility_id === a.subject) ?? {}).country ?? '??') : `batch #${a.subject}`,
        names.member(a.certifier), h('span', { class: a.status === 'valid' ? 'pass' : 'fail' }, a.status), a.expires_at ? date(a.expires_at) : 'never']))
      : h('p', {}, 'None.')),
    section('Sites and names', 'names', table(['Facility', 'Kind', 'Name', 'Operator', 'Sanctioned'],
      doc.facilities.map((f) => [`${f.facility_id}`, f.kind, names.field('facility', f.facility_id, 'name') ?? 'not disclosed',
        names.member(f.operator), sanction(f, doc.chain.as_of_block)])),
      h('p', { class: 'legend' }, `"${WITHHELD}": the record was disclosed at this tier without the field; "not disclosed": no record was disclosed.`)),
    section(`Disclosed records (${doc.tier ?? 'no'} tier)`, 'records', ...records(doc, names)),
    section('Device readings', 'readings', (doc.readings ?? []).length
      ? table(['Lot', 'Reading', 'Device', 'Time', 'Anchored window'], doc.readings.map((w) => [
        `#${w.batch_id}`, `${w.reading.kind}: ${w.reading.unit === 'g' ? kg(w.reading.value) : `${w.reading.value} ${w.reading.unit}`}`,
        `${short(w.reading.device)} #${w.reading.seq}`, date(w.reading.time),
        h('code', { class: 'mono' }, `${short(w.window.root)} (${w.window.count})`)]))
      : h('p', {}, 'No device readings are carried.'),
    h('p', { class: 'legend' }, 'Each reading is signed by its device, bound to the lot\'s facility, in the lot\'s document root, and in a window anchored on chain before the lot was minted: all checked in this page.')),
    section('Telemetry and documents', 'telemetry', table(['Batch', 'Root (content hash)'],
      Object.entries(doc.telemetry_roots).map(([b, root]) => [`#${b}`, h('code', { class: 'mono' }, short(root))])),
      h('p', { class: 'legend' }, 'Each root is proven in MineralPassport storage at the anchor block; readings and documents hang from it by Merkle proof.')),
    section('Evidence', 'evidence', table(['List', 'Completeness'], Object.entries(report.completeness).map(([k, v]) => [k, v])),
      h('p', {}, `${report.counts.records ?? 0} disclosed record(s), ${report.counts.fields ?? 0} field(s) proven.`)),
    h('footer', {}, h('p', {}, 'Verified in this page, offline: block seals or CometBFT commits against the trust anchor\'s validators, Merkle-Patricia proofs of accounts, storage and receipts, every claim re-derived. Drop another trust anchor or passport file on the page, or pick one, to check it instead.'),
      h('label', { for: 'pick' }, 'Check against another trust anchor or passport file: '),
      h('input', { type: 'file', id: 'pick', multiple: '', accept: '.json,application/json' })),
  );
}

function readJson(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

export async function run(doc, trust, state = null) {
  const app = document.getElementById('app');
  const t0 = performance.now();
  let report;
  try {
    report = await verifyOffline(doc, trust);
  } catch (exc) {
    report = { ok: false, failures: [{ where: 'trust anchor', reason: exc.message }], consortium: trust?.name ?? '?', validators: 0, notes: [], policies: [], completeness: {}, counts: {} };
  }
  const ms = performance.now() - t0;
  render(doc, report, app);
  const pick = document.getElementById('pick');
  if (pick && state) pick.addEventListener('change', () => load(pick.files, state));
  document.body.dataset.verdict = report.ok ? 'verified' : 'failed';
  document.body.dataset.verifyMs = ms.toFixed(1);
  window.passportReport = { ok: report.ok, failures: report.failures, policies: report.policies, ms };
}

/** Files dropped on the page or picked (a phone has no drag and drop): a trust anchor replaces
 * the anchor, anything else the passport; then everything is checked again. */
async function load(files, state) {
  document.body.dataset.verdict = 'pending';
  for (const file of files) {
    try {
      const json = JSON.parse(await file.text());
      if (String(json.kind).startsWith('mineral-passport/trust-anchor@')) state.trust = json;
      else state.doc = json;
    } catch (exc) {
      document.body.dataset.verdict = 'failed';
      alert(`${file.name}: not JSON (${exc.message})`);
      return;
    }
  }
  await run(state.doc, state.trust, state);
}

function dropZone(state) {
  const over = (e) => { e.preventDefault(); document.body.classList.add('dropping'); };
  document.addEventListener('dragover', over);
  document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
  document.addEventListener('drop', async (e) => {
    e.preventDefault();
    document.body.classList.remove('dropping');
    await load(e.dataTransfer.files, state);
  });
}

if (typeof document !== 'undefined' && document.getElementById('passport-data')) {
  const state = { doc: readJson('passport-data'), trust: readJson('trust-data') };
  dropZone(state);
  run(state.doc, state.trust, state);
}
