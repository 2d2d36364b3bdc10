import { describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { agentInput, calm, failure, reviewer } from '../configuration/test-setup.test-helper.js';
import { faulty } from './faulty.test-helper.js';
import { instances, lastSchema } from './instances.test-helper.js';
import { PostgresStore } from './store.js';
import { postgresUnavailable } from './test-db.test-helper.js';

const why = await postgresUnavailable();

const request = (id: string) => ({
  agent: agentInput(id, { personalityId: `${id}-p`, roleId: `${id}-r` }),
  personality: { ...calm, id: `${id}-p` },
  role: { ...reviewer, id: `${id}-r` },
});

/**
 * A commit sends its write without waiting for the answer (behind it go the run events it
 * carries, or its COMMIT). Here the server itself refuses that write: another instance
 * creates the same agent just before it goes out, so it fails as a lost race (40001), the run
 * events sent behind it fail with the transaction, and COMMIT rolls it back.
 */
describe.skipIf(why !== undefined)(
  why ? `skipped: ${why}` : 'a write the server refuses after the statements sent behind it',
  () => {
    for (const carried of [true, false])
      it(`fails the commit with the write's own error, and nothing of it is written${carried ? ' (run events carried)' : ''}`, async () => {
        const [plain, other] = await instances('postgres', 2);
        let sent = 0;
        let raced = false;
        const store = await PostgresStore.over(
          faulty(plain!.sql, async (text, run) => {
            if (text.includes('INSERT INTO troupe_history')) {
              sent++;
              if (!raced) {
                raced = true;
                await other!.commit([
                  { op: 'put', kind: 'agents', doc: { id: 'x', name: 'First', by: 'other' }, create: true },
                ]);
              }
            }
            return run();
          }),
          { schema: lastSchema() as string },
        );
        const config = new ConfigurationService(store, carried ? { runLog: store.runLog() } : {});
        const e = await failure(config.createAgent(request('x')));
        expect(e.code).toBe('ALREADY_EXISTS'); // tried again after the lost race, and refused
        expect(sent).toBe(1); // the retry found the agent there before writing anything
        expect(await plain!.get('agents', 'x')).toMatchObject({ by: 'other', revision: 1 });
        for (const [kind, id] of [
          ['resolved', 'x'],
          ['personalities', 'x-p'],
          ['roles', 'x-r'],
        ] as const)
          expect(await plain!.get(kind, id), `${kind}/${id}`).toBeUndefined();
        const { rows } = await plain!.sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM troupe_history',
        );
        expect(rows[0]?.n).toBe(1); // the other instance's create, and only it
        if (carried) {
          const [run] = await plain!.runLog().list();
          const record = await plain!.runLog().read(run!.runId);
          expect(record?.state).not.toBe('completed');
          const texts = record!.events.map((x) => JSON.stringify(x));
          expect(new Set(texts).size).toBe(texts.length); // no event written twice
          // One commit tried (its intent carried), then its intent withdrawn: never planned again.
          const intents = record!.events.filter((x) => x.type === 'step' && x.kind === 'intent');
          expect(intents.map((x) => (x as { output: { undo: unknown[] } }).output.undo.length)).toEqual([
            4, 0,
          ]);
        }
      });
  },
);
