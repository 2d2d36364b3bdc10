import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { PostgresStore, type PostgresStoreOptions } from './store.js';
import { dropSchema, freshSchema, TEST_POSTGRES_URL } from './test-db.test-helper.js';

/**
 * Stores each through a proxy of its own (see postgresProxy), in fresh schemas (`schemas`)
 * dropped after the file's tests.
 */
export function proxiedStores() {
  const schemas: string[] = [];
  afterAll(() => Promise.all(schemas.map((s) => dropSchema(s))));
  return {
    schemas,
    async setup(opts: PostgresStoreOptions = {}) {
      const schema = freshSchema();
      schemas.push(schema);
      const proxy = await postgresProxy();
      const store = await PostgresStore.connect(proxy.url, { schema, poolSize: 2, ...opts });
      return { schema, proxy, store, config: new ConfigurationService(store, { runLog: store.runLog() }) };
    },
  };
}

/** What the proxy does to a connection once a COMMIT has gone through it (when armed). */
export type AtCommit = 'cut' | 'hold';

/**
 * A TCP proxy to the test server. Armed, it acts right after passing on a COMMIT: `cut` closes
 * the client's side (the server commits, its answer has nowhere to go), `hold` keeps every
 * byte from then on in both directions (a server that stopped, or a network that dropped the
 * connection without a word). `freeze` holds every connection open now; new ones pass.
 */
export async function postgresProxy() {
  const target = new URL(TEST_POSTGRES_URL);
  let armed: AtCommit | undefined;
  let triggered = 0;
  let dead = false;
  const sockets = new Set<Socket>();
  const held = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (dead) {
      client.destroy(); // the server is gone: no connection gets through any more
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (held.has(client)) return;
      upstream.write(chunk);
      if (armed && chunk.includes('COMMIT')) {
        const what = armed;
        armed = undefined;
        triggered++;
        if (what === 'hold') held.add(client);
        else {
          client.destroy(); // the server reads the COMMIT and commits; the answer has nowhere to go
          upstream.end();
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed && !held.has(client)) client.write(chunk);
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
    arm: (what: AtCommit) => {
      armed = what;
    },
    /** Holds every connection open now: nothing more goes through them, either way. */
    freeze: () => {
      for (const s of sockets) held.add(s);
    },
    /** From the first COMMIT acted on, every new connection is refused too. */
    killAfterCut: () => {
      const cut = setInterval(() => {
        if (triggered > 0) {
          dead = true;
          clearInterval(cut);
        }
      }, 1);
    },
    /** How many COMMITs it has acted on. */
    cuts: () => triggered,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
