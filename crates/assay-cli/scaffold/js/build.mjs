// Build {{component}} from app.js with componentize-js (its library API: `jco componentize`
// fails on Node 20).
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const { component } = await componentize({
  sourcePath: join(here, 'app.js'),
  witPath: join(here, 'wit'),
  worldName: 'listing-rule',
  // No WASI at all: a rule imports only assay's `log` interface.
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
await writeFile(join(here, '{{component}}'), component);
console.log(`built {{component}} (${component.length} bytes)`);
