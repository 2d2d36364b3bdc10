import { describe, expect, it } from 'vitest';
import { postgresUnavailable } from '../../src/postgres/test-db.test-helper.js';
import { castDir, type Doc, inconsistencies, readDoc, troupe } from './processes.js';

// Real processes racing on one directory. Each round checks the invariants the CLI promises:
// every acknowledged write is what is stored (or was overwritten by a later acknowledged one),
// no two writers are handed the same revision, and a command that failed changed nothing.

const humorOf = (d: Doc | undefined) => (d?.behaviors as { humor?: number } | undefined)?.humor;
type Ack = { personality: Doc; revision: number; unchanged: boolean; agents: string[] };

/** `agent create` of an agent on personality hub and role reviewer. */
const createOnHub = (id: string) => [
  'agent',
  'create',
  '--id',
  id,
  '--name',
  id.toUpperCase(),
  '--personality',
  'hub',
  '--role',
  'reviewer',
  '--model',
  'gpt-4o',
  '--json',
];

const engines: Array<'file' | 'postgres'> = [
  'file',
  ...((await postgresUnavailable()) ? [] : ['postgres' as const]),
];

describe.each(engines.map((e) => [e]))(
  'troupe commands racing as separate processes (%s store)',
  (engine) => {
    it('30 rounds of 4 compare-and-swap updates with the same revision: exactly one wins, and it is stored', async () => {
      const dir = await castDir(3, engine);
      for (let round = 0; round < 30; round++) {
        const n = (await readDoc(dir, 'personalities/hub.json'))!.revision;
        const values = [0, 1, 2, 3].map((i) => (round * 4 + i) % 101);
        const exits = await Promise.all(
          values.map((v) =>
            troupe(dir, [
              'personality',
              'update',
              'hub',
              '--expect-revision',
              String(n),
              '--trait',
              `humor=${v}`,
              '--json',
            ]),
          ),
        );
        const won = exits.flatMap((e, i) =>
          e.code === 0 ? [{ v: values[i]!, ack: JSON.parse(e.stdout) as Ack }] : [],
        );
        const lost = exits.filter((e) => e.code !== 0);
        expect(won, `round ${round}: ${exits.map((e) => e.stderr).join('\n')}`).toHaveLength(1);
        for (const e of lost)
          expect(JSON.parse(e.stderr).error.code, e.stderr).toBe('CONCURRENT_MODIFICATION');
        const { v, ack } = won[0]!;
        // The acknowledgement describes this command's own write, and that write is what is stored.
        expect(ack.revision).toBe(n + 1);
        expect(humorOf(ack.personality)).toBe(v);
        const stored = (await readDoc(dir, 'personalities/hub.json'))!;
        expect(stored.revision).toBe(n + 1);
        expect(humorOf(stored)).toBe(v);
        for (const a of ['a0', 'a1', 'a2'])
          expect((await readDoc(dir, `agents/${a}.json`))!.personalityVersion, `round ${round} ${a}`).toBe(
            n + 1,
          );
      }
      expect(await inconsistencies(dir)).toEqual([]);
    }, 120_000);

    it('8 plain updates of a personality used by agents at once: all succeed, each with its own revision', async () => {
      const dir = await castDir(6, engine);
      for (let round = 0; round < 3; round++) {
        const n = (await readDoc(dir, 'personalities/hub.json'))!.revision;
        const values = [...Array(8).keys()].map((i) => 100 - (round * 8 + i));
        const exits = await Promise.all(
          values.map((v) => troupe(dir, ['personality', 'update', 'hub', '--trait', `humor=${v}`, '--json'])),
        );
        for (const e of exits) expect(e.code, e.stderr).toBe(0);
        const acks = exits.map((e) => JSON.parse(e.stdout) as Ack);
        const revisions = acks.map((a) => a.revision).sort((a, b) => a - b);
        // One revision each, no gaps: no write was lost, none was done twice or undone.
        expect(revisions).toEqual([...Array(8).keys()].map((i) => n + 1 + i));
        acks.forEach((a, i) => {
          expect(humorOf(a.personality)).toBe(values[i]);
          expect(a.agents).toHaveLength(6);
        });
        const last = acks.find((a) => a.revision === n + 8)!;
        const stored = (await readDoc(dir, 'personalities/hub.json'))!;
        expect(humorOf(stored)).toBe(humorOf(last.personality));
        for (let i = 0; i < 6; i++)
          expect((await readDoc(dir, `agents/a${i}.json`))!.personalityVersion).toBe(n + 8);
        expect(await inconsistencies(dir)).toEqual([]);
      }
    }, 120_000);

    it('4 creates of one id at once: exactly one is created, with its own content', async () => {
      const dir = await castDir(0, engine);
      for (let round = 0; round < 5; round++) {
        const id = `new-${round}`;
        const exits = await Promise.all(
          [0, 1, 2, 3].map((i) =>
            troupe(dir, [
              'personality',
              'create',
              '--id',
              id,
              '--name',
              `New ${round}`,
              '--preset',
              'calm-analyst',
              '--trait',
              `humor=${i * 10}`,
              '--json',
            ]),
          ),
        );
        const won = exits.flatMap((e, i) => (e.code === 0 ? [i] : []));
        expect(won, exits.map((e) => e.stderr).join('\n')).toHaveLength(1);
        for (const e of exits.filter((x) => x.code !== 0))
          expect(JSON.parse(e.stderr).error.code).toBe('ALREADY_EXISTS');
        const stored = (await readDoc(dir, `personalities/${id}.json`))!;
        expect(stored.revision).toBe(1);
        expect(humorOf(stored)).toBe(won[0]! * 10);
      }
    }, 60_000);

    it('personality and role updates racing agent creates on them all succeed, and leave every agent in sync', async () => {
      const dir = await castDir(1, engine);
      const updates = (what: 'personality' | 'role', id: string, n: number) =>
        (async () => {
          const out = [];
          for (let i = 0; i < n; i++)
            out.push(
              await troupe(
                dir,
                what === 'personality'
                  ? ['personality', 'update', id, '--trait', `humor=${i}`, '--json']
                  : ['role', 'update', id, '--description', `take ${i}`, '--json'],
              ),
            );
          return out;
        })();
      const creates = (from: number, n: number) =>
        (async () => {
          const out = [];
          for (let i = from; i < from + n; i++) out.push(await troupe(dir, createOnHub(`n${i}`)));
          return out;
        })();
      const exits = (
        await Promise.all([
          updates('personality', 'hub', 4),
          updates('role', 'reviewer', 4),
          creates(0, 4),
          creates(10, 4),
        ])
      ).flat();
      // No update was given a revision to hold: a race it lost is planned again, never a failure.
      for (const e of exits) expect(e.code, e.stderr).toBe(0);
      expect(await inconsistencies(dir)).toEqual([]);
      const hub = (await readDoc(dir, 'personalities/hub.json'))!;
      const reviewer = (await readDoc(dir, 'roles/reviewer.json'))!;
      for (const id of ['a0', 'n0', 'n3', 'n10', 'n13']) {
        const a = (await readDoc(dir, `agents/${id}.json`))!;
        expect([id, a.personalityVersion, a.roleVersion]).toEqual([id, hub.revision, reviewer.revision]);
      }
    }, 120_000);

    it('a cascading delete racing updates and agent creates leaves no dangling reference', async () => {
      for (let round = 0; round < 4; round++) {
        const dir = await castDir(4, engine);
        const exits = await Promise.all([
          troupe(dir, ['personality', 'delete', 'hub', '--cascade', '--json']),
          troupe(dir, ['personality', 'update', 'hub', '--trait', 'humor=7', '--json']),
          troupe(dir, ['agent', 'update', 'a1', '--temperature', '0.9', '--json']),
          troupe(dir, createOnHub('late')),
        ]);
        const [del, , , create] = exits;
        expect(del!.code, del!.stderr).toBe(0);
        expect(await inconsistencies(dir)).toEqual([]);
        expect(await readDoc(dir, 'personalities/hub.json')).toBeUndefined();
        // An agent created before the delete was cascaded with it; one created after was refused.
        expect(await readDoc(dir, 'agents/late.json')).toBeUndefined();
        if (create!.code === 0) expect(JSON.parse(del!.stdout).agentsDeleted).toContain('late');
        for (const e of exits) expect([0, 1]).toContain(e.code);
      }
    }, 60_000);
  },
);
