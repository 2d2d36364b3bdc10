import { cascadeBench } from './cascade.bench.js';
import { engineBench } from './engine.bench.js';
import { fileStoreBench } from './file-store.bench.js';
import { kitBench } from './kit.bench.js';
import { largeBundleBench } from './large-bundle.bench.js';
import { postgresBench } from './postgres.bench.js';
import { formatTable } from './run.js';
import { serveBench } from './serve.bench.js';
import { startupBench } from './startup.bench.js';
import { takeoverBench } from './takeover.bench.js';
import { workflowBench } from './workflow.bench.js';

/** `npm run bench`: every benchmark, each row with its ratio to a baseline measured in the same run. */
const sections: Array<[string, () => Promise<Parameters<typeof formatTable>[0]>]> = [
  ['Start-up of a simple command, each a fresh process (target ≤ 2× node -e 0)', startupBench],
  ['Workflow engine: per-step policy overhead and whole runs', engineBench],
  ['File store commits vs one-by-one atomic writes', fileStoreBench],
  ['create-agent on the file store vs one-by-one atomic writes', workflowBench],
  ['One commit per change at scale: cascades and large applies on the file store', cascadeBench],
  ['Large bundles: 10k and 160k entities, each in a fresh process', largeBundleBench],
  ['PostgreSQL (the server .ci/run starts, fsync on): runs, the change feed', postgresBench],
  ["PostgreSQL: a killed instance's run taken over by a live one (target ≤ 10 s)", takeoverBench],
  [
    'troupe serve under load (autocannon, loopback, 10 connections; target ≥ 2,000 req/s, p99 ≤ 10 ms)',
    serveBench,
  ],
  ["Testing kit: the original plan's figures against their budgets (target ≥ 20× under)", kitBench],
];

for (const [title, bench] of sections) {
  console.log(`\n## ${title}\n`);
  console.log(formatTable(await bench()));
}
