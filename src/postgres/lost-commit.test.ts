import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { calm } from '../configuration/test-setup.test-helper.js';
import { PostgresStore } from './store.js';
import { dropSchema, freshSchema, postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const why = await postgresUnavailable();

/**
 * A TCP proxy to the test server that, once armed, cuts the client's side of the connection
 * right after passing on a COMMIT: the server commits, its answer never arrives.
 */
async function cuttingProxy() {
  const target = new URL(TEST_POSTGRES_URL);
  let armed = false;
  let cuts = 0;
  let dead = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (dead) {
      client.destroy(); // the server is gone: no connection gets through any more
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (armed && chunk.includes('COMMIT')) {
        armed = false;
        cuts++;
        client.destroy(); // the server reads the COMMIT and commits; the answer has nowhere to go
        upstream.end();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const url = new URL(TEST_POSTGRES_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    arm: () => {
      armed = true;
    },
    /** From the cut on, every new connection is refused too. */
    killAfterCut: () => {
      const cut = setInterval(() => {
        if (cuts > 0) {
          dead = true;
          clearInterval(cut);
        }
      }, 1);
    },
    cuts: () => cuts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.skipIf(why !== undefined)(
  why ? `skipped: ${why}` : 'a COMMIT whose answer the network loses, on PostgreSQL',
  () => {
    const schemas: string[] = [];
    afterAll(() => Promise.all(schemas.map((s) => dropSchema(s))));

    const setup = async () => {
      const schema = freshSchema();
      schemas.push(schema);
      const proxy = await cuttingProxy();
      const store = await PostgresStore.connect(proxy.url, { schema, poolSize: 2 });
      const config = new ConfigurationService(store, { runLog: store.runLog() });
      return { proxy, store, config };
    };

    it('when the server cannot be asked, the change is said to be maybe written, and recovery undoes it', async () => {
      const { proxy, store, config } = await setup();
      try {
        proxy.arm();
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
          proxy.arm();
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
