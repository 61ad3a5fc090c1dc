// Bundles the viewer with esbuild: the page script (IIFE, minified) into passport/viewer/viewer.js,
// beside the page template and CSS that `passport passport view` fills in; with --test, also an ES
// module of the verifier for the Node tests (build/viewer/verify.mjs).
import { build } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : join(root, 'passport', 'viewer');
mkdirSync(out, { recursive: true });
// `virtual:event-abis`: the event entries of the three contracts' ABIs (not their bytecode).
const eventAbis = {
  name: 'event-abis',
  setup(b) {
    b.onResolve({ filter: /^virtual:event-abis$/ }, (args) => ({ path: args.path, namespace: 'event-abis' }));
    b.onLoad({ filter: /.*/, namespace: 'event-abis' }, () => {
      const abis = ['Consortium', 'MineralPassport', 'AttestationRegistry'].map((name) =>
        JSON.parse(readFileSync(join(root, 'passport/artifacts', `${name}.json`), 'utf8')).abi.filter((i) => i.type === 'event'));
      return { contents: JSON.stringify(abis), loader: 'json', watchFiles: [] };
    });
  },
};
const common = { plugins: [eventAbis], bundle: true, platform: 'browser', target: ['chrome110', 'safari16', 'firefox115'], logLevel: 'warning', legalComments: 'none' };
await build({ ...common, entryPoints: [join(root, 'viewer/src/page.js')], format: 'iife', minify: true, outfile: join(out, 'viewer.js') });
if (process.argv.includes('--test')) {
  await build({ ...common, entryPoints: [join(root, 'viewer/src/verify.js')], format: 'esm', outfile: join(root, 'build/viewer/verify.mjs') });
}
