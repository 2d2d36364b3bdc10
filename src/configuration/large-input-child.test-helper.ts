// Run as a child process by large-input.test.ts: applies a bundle whose JSON is larger than
// the run log keeps inline, and dies (SIGKILL) right after the persist step's commit (`persist`)
// or as the verify step starts, the persist step's success recorded (`verify`).
import { FileRunLog } from '../orchestration/file-run-log.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { FileStore } from '../storage/file/store.js';
import { ConfigurationService } from './configuration-service.js';
import { largeBundle } from './large-input.test-helper.js';

const [dir, at] = process.argv.slice(2);
if (!dir || (at !== 'persist' && at !== 'verify'))
  throw new Error('usage: large-input-child <dir> <persist|verify>');
const die = () => process.kill(process.pid, 'SIGKILL');

const wrapHandlers = (h: ServiceHandlers): ServiceHandlers => ({
  ...h,
  file: {
    ...h.file,
    persist: async (input, ctx) => {
      const out = await h.file!.persist!(input, ctx);
      if (at === 'persist') die();
      return out;
    },
  },
  configuration: {
    ...h.configuration,
    verify: async () => die(),
  },
});
const store = await FileStore.open(dir);
const config = new ConfigurationService(store, {
  runLog: new FileRunLog(`${dir}/.troupe/runs`),
  wrapHandlers,
});
await config.applyBundle(largeBundle());
