import { describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { calm } from '../configuration/test-setup.test-helper.js';
import { proxiedStores } from './proxy.test-helper.js';
import { PostgresStore } from './store.js';
import { postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const why = await postgresUnavailable();

describe.skipIf(why !== undefined)(
  why ? `skipped: ${why}` : 'a COMMIT whose answer the network loses, on PostgreSQL',
  () => {
    const { schemas, setup } = proxiedStores();

    it('when the server cannot be asked, the change is said to be maybe written, and recovery undoes it', async () => {
      const { proxy, store, config } = await setup();
      try {
        proxy.arm('cut');
        proxy.killAfterCut();
        const e = await config.createPersonality(calm).catch((x: unknown) => x as Error);
        expect(proxy.cuts()).toBe(1);
        expect(String((e as Error).message)).toMatch(
          /lost at COMMIT, and the server could not be asked whether it committed: the change may have been written/,
        );
        // It was written, with its intent: another instance's recovery finds it and undoes it.
        const other = await PostgresStore.connect(TEST_POSTGRES_URL, {
          schema: schemas.at(-1)!,
          poolSize: 2,
        });
        try {
          expect(await other.get('personalities', 'calm')).toMatchObject({ revision: 1 });
          const [run] = await other.runLog().list();
          await new ConfigurationService(other, { runLog: other.runLog() }).recover({ force: [run!.runId] });
          expect(await other.get('personalities', 'calm')).toBeUndefined();
        } finally {
          await other.close();
        }
      } finally {
        await store.close();
        await proxy.close();
      }
    });

    for (const change of ['create', 'update', 'delete'] as const) {
      it(`${change === 'update' ? 'an' : 'a'} ${change} that committed is reported done, stands, and is not undone`, async () => {
        const { proxy, store, config } = await setup();
        try {
          if (change !== 'create') await config.createPersonality(calm);
          proxy.arm('cut');
          if (change === 'create') await config.createPersonality(calm);
          if (change === 'update')
            await config.updatePersonality('calm', { name: 'Calmer' }, { expectedRevision: 1 });
          if (change === 'delete') await config.deletePersonality('calm');
          expect(proxy.cuts()).toBe(1);
          const now = await store.get('personalities', 'calm');
          if (change === 'create') expect(now).toMatchObject({ revision: 1, name: 'Calm' });
          if (change === 'update') expect(now).toMatchObject({ revision: 2, name: 'Calmer' });
          if (change === 'delete') expect(now).toBeUndefined();
          const runs = await store.runLog().list();
          expect(runs.map((r) => r.state)).toEqual(runs.map(() => 'completed'));
        } finally {
          await store.close();
          await proxy.close();
        }
      });
    }
  },
);
