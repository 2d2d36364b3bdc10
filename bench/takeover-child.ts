// Run by takeover.bench.ts as a process of its own: an instance that begins one run on a shared
// PostgreSQL and is killed (SIGKILL) while its step is under way. Prints "in step" once there.
import { workflow } from '../src/orchestration/builder.js';
import { WorkflowRunner } from '../src/orchestration/runner.js';
import { PostgresStore } from '../src/postgres/store.js';

const [url, runId] = process.argv.slice(2);
if (!url || !runId) throw new Error('usage: takeover-child <url> <runId>');
const store = await PostgresStore.connect(url, { poolSize: 2 });
const def = workflow('held')
  .step('a', 's', 'a', { compensate: { operation: 'undo' } })
  .step('b', 's', 'b', { dependsOn: ['a'] })
  .build();
const runner = new WorkflowRunner({
  services: {
    s: {
      a: async () => 1,
      undo: async () => undefined,
      b: async () => {
        process.stdout.write('in step\n');
        await new Promise(() => {}); // killed here
      },
    },
  },
  runLog: store.runLog(),
});
await runner.run(def, {}, { runId });
