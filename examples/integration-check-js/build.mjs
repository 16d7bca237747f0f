// Build shop_sync.wasm from app.js with componentize-js. Its library API is used because the
// `jco componentize` command fails on Node 20.
import { componentize, version } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
const { component } = await componentize({
  sourcePath: join(here, 'app.js'),
  witPath: join(here, '../../wit'),
  worldName: 'integration-check',
  // No WASI at all: the component imports only assay's `log` and `platform` interfaces.
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
const out = join(here, 'shop_sync.wasm');
await writeFile(out, component);
console.log(`built ${out} (${component.length} bytes) with componentize-js ${version} in ${Date.now() - started} ms`);
