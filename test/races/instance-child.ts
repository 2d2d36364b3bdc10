// Run by postgres-chaos.test.ts as a separate process: one troupe instance on a shared
// PostgreSQL, as a server would run it. It makes `count` plain updates of personality hub and,
// all the while, recovers runs that dead instances left (every 200 ms), printing one JSON line
// per update: what it acknowledged (revision, value, run id), or the code it failed with.
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { isTroupeError } from '../../src/domain/errors.js';
import { PostgresStore } from '../../src/postgres/store.js';

const [url, who, count] = process.argv.slice(2);
if (!url || !who || !count) throw new Error('usage: instance-child <url> <who> <count>');

// Started while the server restarts, it waits for it, as a server's instance would.
async function connected(): Promise<PostgresStore> {
  for (let tries = 1; ; tries++) {
    try {
      return await PostgresStore.connect(url!, { poolSize: 3 });
    } catch (e) {
      if (!isTroupeError(e) || e.code !== 'TRANSIENT' || tries >= 60) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
const store = await connected();
const config = new ConfigurationService(store, { runLog: store.runLog({ leaseMs: 2_000 }) });
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
let recovering = false;
const sweep = setInterval(() => {
  if (recovering) return;
  recovering = true;
  config
    .recover()
    .then((rs) => {
      for (const r of rs) say({ recovered: r.runId, status: r.status });
    })
    .catch(() => undefined) // the database is away (restarting): the next sweep tries again
    .finally(() => {
      recovering = false;
    });
}, 200);
for (let i = 0; i < Number(count); i++) {
  const humor = (Number(who) * 37 + i) % 101;
  try {
    const r = await config.updatePersonality('hub', { behaviors: { humor } });
    say({ ok: true, revision: r.personality.revision, humor, unchanged: r.unchanged, runId: r.runId });
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    say({ ok: false, code: e.code, message: e.message });
    await new Promise((r) => setTimeout(r, 100));
  }
}
clearInterval(sweep);
while (recovering) await new Promise((r) => setTimeout(r, 20));
// Before it stops, it finishes what is left to recovery (its own undos the restart cut short too).
for (let tries = 0; tries < 50; tries++) {
  const open = (await config.listRuns()).filter((r) => r.state === 'compensating' || r.state === 'running');
  if (open.length === 0) break;
  for (const r of await config.recover().catch(() => [])) say({ recovered: r.runId, status: r.status });
  await new Promise((r) => setTimeout(r, 100));
}
await store.close();
