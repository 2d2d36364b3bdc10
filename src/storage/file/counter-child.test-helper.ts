// Run as a child process by cross-process.test.ts: CAS increments of one counter, interleaved
// with unconditional puts of entities only this child writes.
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { casIncrement } from './cas-increment.test-helper.js';
import { FileStore } from './store.js';

const [dir, barrier, name, count] = process.argv.slice(2);
if (!dir || !barrier || !name || !count)
  throw new Error('usage: counter-child <dir> <barrier> <name> <count>');

const store = await FileStore.open(dir, { backups: 1 });
// Start together: announce readiness, then wait for the test's go signal.
await writeFile(join(barrier, name), '');
for (;;) {
  try {
    await access(join(barrier, 'go'));
    break;
  } catch {
    await sleep(2);
  }
}
let conflicts = 0;
for (let i = 0; i < Number(count); i++) {
  conflicts += await casIncrement(store);
  await store.put('agents', { id: `${name}-${i}`, by: name });
}
await store.close();
process.stderr.write(`conflicts=${conflicts}\n`);
