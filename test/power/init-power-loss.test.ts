import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../leftovers.js';
import { describeMoment, inProcess, moments, recorded, scratch } from './power-loss.js';
import { materialize } from './sim-disk.js';

// `troupe init` is acknowledged like any write: once it has said "Initialised", a power loss
// leaves a store that opens, with whole schema files; before that, either no store (and `init`
// run again makes one) or a whole one.

let s: Awaited<ReturnType<typeof scratch>>;
beforeAll(async () => {
  s = await scratch('troupe-power-init-');
});
afterAll(async () => {
  await s.remove();
});

async function schemasParse(dir: string, where: string) {
  const folder = join(dir, '.troupe', 'schemas');
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const n of names.filter((f) => f.endsWith('.json'))) {
    const text = await readFile(join(folder, n), 'utf8');
    expect(() => JSON.parse(text), `${where}: ${n}`).not.toThrow();
  }
  return names.length;
}

describe('power lost at every crash point of troupe init', () => {
  it.each([[['init']], [['init', '--no-schemas']]])(
    '%j acknowledged: a store that opens, schemas whole; before: no store or a whole one, and init again makes it',
    {
      timeout: 300_000,
    },
    async (args) => {
      const schemasWanted = !args.includes('--no-schemas');
      const parent = join(s.root, `home${args.length}`);
      await mkdir(parent);
      const dir = join(parent, 'cfg');
      const { exit, sim, log } = await recorded(parent, args, s.file('disk-log'), dir);
      expect(exit.code, exit.stderr).toBe(0);
      const all = moments(sim, log, 7);
      expect(all.length).toBeGreaterThan(10);
      const outcomes = new Set<string>();
      for (const m of all) {
        const where = describeMoment(m);
        await materialize(m.tree, parent);
        const v = await inProcess(dir, ['validate']);
        if (m.acknowledged) expect(v.code, `${where}: ${v.stderr}`).toBe(0);
        outcomes.add(v.code === 0 ? 'store' : 'no store');
        if (v.code !== 0) expect(v.stderr, where).toMatch(/not a troupe directory|does not exist|no such/i);
        if (!m.acknowledged) {
          // Not acknowledged: running it again is what a user does, and must finish the job.
          const again = await inProcess(dir, args);
          expect(again.code, `${where}: ${again.stderr}`).toBe(0);
          expect((await inProcess(dir, ['validate'])).code, where).toBe(0);
        }
        const schemas = await schemasParse(dir, where);
        if (schemasWanted) expect(schemas, where).toBeGreaterThan(0);
        expect(await leftovers(parent), where).toEqual([]);
      }
      expect([...outcomes].sort()).toEqual(['no store', 'store']);
    },
  );
});
