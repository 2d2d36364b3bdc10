import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { FileStore } from './index.js';
import { runChild } from './spawn.test-helper.js';

let dir = '';
let barrier = '';
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(barrier, { recursive: true, force: true });
});

const NAMES = ['left', 'right'];

/** Lets the children start their loops together, once both have started up. */
async function releaseWhenReady() {
  for (;;) {
    const ready = await Promise.all(
      NAMES.map((n) =>
        access(join(barrier, n)).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) break;
    await sleep(5);
  }
  await writeFile(join(barrier, 'go'), '');
}

it('two processes doing CAS read-modify-write and puts on one store lose nothing', async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-xproc-'));
  barrier = await mkdtemp(join(tmpdir(), 'troupe-barrier-'));
  const store = await FileStore.init(dir);
  await store.put('models', { id: 'counter', n: 0 });
  const perChild = 40;
  const running = Promise.all(
    NAMES.map((name) => runChild('./counter-child.test-helper.ts', [dir, barrier, name, String(perChild)])),
  );
  await Promise.race([releaseWhenReady(), running]);
  const children = await running;
  for (const c of children) expect(c, c.stderr).toMatchObject({ code: 0, signal: null });

  const counter = await store.get('models', 'counter');
  expect(counter).toMatchObject({ n: 2 * perChild, revision: 2 * perChild + 1 });
  const agents = (await store.list('agents')).map((d) => d.id);
  expect(agents).toHaveLength(2 * perChild);
  for (const name of NAMES) {
    for (let i = 0; i < perChild; i++) expect(agents).toContain(`${name}-${i}`);
  }
});
