// Run as a child process by crash.test.ts: commits the crash batch (or, for `seq-*` points, the
// crash sequence) and kills itself with SIGKILL at the requested point, leaving the store
// exactly as a real crash would. In a sequence the crash hooks fire during its last commit.
import type { FileStoreHooks } from './apply.js';
import { BATCH_TIME, crashBatch, crashSequence } from './crash-batch.test-helper.js';
import { FileStore } from './store.js';

const [dir, arg] = process.argv.slice(2);
if (!dir || !arg) throw new Error('usage: crash-child <dir> <point>');

const sequence = arg.startsWith('seq-');
const point = sequence ? arg.slice('seq-'.length) : arg;
const commits = sequence ? crashSequence() : [crashBatch()];
let current = 0;
const last = () => current === commits.length - 1;

const die = () => {
  if (last()) process.kill(process.pid, 'SIGKILL');
};
const hooks: FileStoreHooks = {};
const at = (prefix: string) => (point.startsWith(prefix) ? Number(point.slice(prefix.length)) : undefined);
if (point === 'journal-partial') hooks.journalPartial = die;
else if (point === 'after-journal') hooks.afterJournal = die;
else if (point === 'after-applied') hooks.afterApplied = die;
else if (point === 'before-truncate') hooks.beforeJournalTruncate = die;
else if (at('apply-') !== undefined) {
  hooks.afterApply = (n) => {
    if (n === at('apply-')) die();
  };
} else if (at('checkpoint-') !== undefined) {
  hooks.checkpointSynced = (n) => {
    if (n === at('checkpoint-')) die();
  };
} else if (point !== 'none') throw new Error(`unknown crash point ${arg}`);

// The last commit of the sequence reaches the threshold, so it runs a checkpoint.
const store = await FileStore.open(dir, { now: () => BATCH_TIME, hooks, checkpointCommits: commits.length });
for (; current < commits.length; current++) await store.commit(commits[current]!);
await store.close();
