// Opens passport pages in Debian's Chromium (playwright-core) with the network blocked, and prints
// what each shows as JSON: node viewer/test/browser.mjs JOBS.json
// A job: {url, width, height, screenshot?, drop?: [{name, text}] (files dropped on the page once it
// has verified)}. Any request other than the page itself is aborted
// and reported under "blocked".
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
const results = [];
try {
  for (const job of jobs) {
    const context = await browser.newContext({ viewport: { width: job.width ?? 1280, height: job.height ?? 900 } });
    const blocked = [];
    const errors = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === job.url) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    const started = Date.now();
    await page.goto(job.url);
    const settled = () => page.waitForFunction(() => document.body.dataset.verdict && document.body.dataset.verdict !== 'pending', null, { timeout: 120000 });
    await settled();
    if (job.drop) {
      // Drop files on the page as a user would drag them in: [{name, text}].
      await page.evaluate((files) => {
        const data = new DataTransfer();
        for (const f of files) data.items.add(new File([f.text], f.name, { type: 'application/json' }));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      }, job.drop);
      await settled();
    }
    if (job.pick) {
      // Pick files with the page's file input, as on a phone (no drag and drop): [{name, text}].
      await page.setInputFiles('#pick', job.pick.map((f) => ({ name: f.name, mimeType: 'application/json', buffer: Buffer.from(f.text) })));
      await settled();
    }
    const shown = await page.evaluate(() => {
      const visible = [...document.querySelectorAll('body *')].filter((el) => el.childNodes.length && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) && el.getClientRects().length);
      return {
        verdict: document.body.dataset.verdict,
        verifyMs: Number(document.body.dataset.verifyMs),
        banner: document.getElementById('verdict').innerText,
        compliance: document.getElementById('compliance')?.innerText ?? null,
        complianceBottom: document.getElementById('compliance')?.getBoundingClientRect().bottom ?? null,
        screenHeight: window.innerHeight,
        failures: [...document.querySelectorAll('#failures li')].map((li) => li.innerText),
        graphNodes: document.querySelectorAll('#lineage-graph .node').length,
        policies: Object.fromEntries([...document.querySelectorAll('[data-policy]')].map((el) => [el.dataset.policy, { result: el.innerText, reasons: el.closest('tr').innerText }])),
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        minFontPx: Math.min(...visible.map((el) => parseFloat(getComputedStyle(el).fontSize))),
        graphPans: (() => { const p = document.getElementById('lineage-pan'); return p ? getComputedStyle(p).overflowX : null; })(),
        pageBytes: document.documentElement.outerHTML.length,
        // words of table text (not hashes or addresses) that the layout broke across lines
        brokenWords: (() => {
          const out = [];
          for (const td of document.querySelectorAll('td')) {
            const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              if (n.parentElement.closest('code, .mono')) continue;
              const words = /[^\s-]+/g; // a break after a hyphen is a break between words
              for (let m = words.exec(n.textContent); m; m = words.exec(n.textContent)) {
                if (/^\(?0x[0-9a-fA-F]/.test(m[0]) || m[0].length > 24) continue;
                const r = document.createRange();
                r.setStart(n, m.index);
                r.setEnd(n, m.index + m[0].length);
                if (new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size > 1) out.push(m[0]);
              }
            }
          }
          return out.slice(0, 20);
        })(),
        // points of lineage edges inside a box other than the edge's own ends
        edgesThroughBoxes: (() => {
          const boxes = [...document.querySelectorAll('#lineage-graph .node')].map((g) => {
            const m = /translate\(([\d.]+),([\d.]+)\)/.exec(g.getAttribute('transform'));
            const r = g.querySelector('rect');
            return { x: Number(m[1]), y: Number(m[2]), w: Number(r.getAttribute('width')), h: Number(r.getAttribute('height')) };
          });
          let crossings = 0;
          for (const path of document.querySelectorAll('#lineage-graph path.edge')) {
            const length = path.getTotalLength();
            for (let t = 4; t < length - 4; t += 3) {
              const p = path.getPointAtLength(t);
              if (boxes.some((b) => p.x > b.x + 1 && p.x < b.x + b.w - 1 && p.y > b.y + 1 && p.y < b.y + b.h - 1)) { crossings += 1; break; }
            }
          }
          return crossings;
        })(),
        graphLabels: [...document.querySelectorAll('#lineage-graph .node text.small')].map((t) => t.textContent),
        records: [...document.querySelectorAll('#records tbody tr')].map((tr) => [...tr.children].map((td) => td.innerText)),
        sanctions: [...document.querySelectorAll('#names tbody tr')].map((tr) => tr.lastElementChild.innerText),
        custodyTx: [...document.querySelectorAll('#custody td code')].map((c) => c.title),
      };
    });
    if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true });
    results.push({ url: job.url, ...shown, blocked, errors, wallMs: Date.now() - started });
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
