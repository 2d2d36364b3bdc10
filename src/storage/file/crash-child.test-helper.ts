// Run as a child process by crash.test.ts: commits the crash batch and kills itself with
// SIGKILL at the requested point, leaving the store exactly as a real crash would.
import type { FileStoreHooks } from './apply.js';
import { BATCH_TIME, crashBatch } from './crash-batch.test-helper.js';
import { FileStore } from './store.js';

const [dir, point] = process.argv.slice(2);
if (!dir || !point) throw new Error('usage: crash-child <dir> <point>');

const die = () => {
  process.kill(process.pid, 'SIGKILL');
};
const hooks: FileStoreHooks = {};
if (point === 'journal-partial') hooks.journalPartial = die;
else if (point === 'after-journal') hooks.afterJournal = die;
else if (point === 'before-journal-remove') hooks.beforeJournalRemove = die;
else if (point.startsWith('apply-')) {
  const k = Number(point.slice('apply-'.length));
  hooks.afterApply = (n) => {
    if (n === k) die();
  };
} else if (point !== 'none') throw new Error(`unknown crash point ${point}`);

const store = await FileStore.open(dir, { now: () => BATCH_TIME, hooks });
await store.commit(crashBatch());
await store.close();
