// Run as a child process by recovery-crash.test.ts. `update`: a cascading personality update
// that dies (SIGKILL) right after its commit, before its check. `recover[:after]`: recovery of
// that run, dying as its compensation starts (or right after the compensation's commit).
import { FileRunLog } from '../orchestration/file-run-log.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { FileStore } from '../storage/file/store.js';
import { ConfigurationService } from './configuration-service.js';

const [dir, mode] = process.argv.slice(2);
if (!dir || !mode) throw new Error('usage: recovery-crash-child <dir> <update|recover|recover:after>');

const die = () => process.kill(process.pid, 'SIGKILL');
const killAround =
  (service: string, operation: string, after: boolean) =>
  (h: ServiceHandlers): ServiceHandlers => ({
    ...h,
    [service]: {
      ...h[service],
      [operation]: async (input, ctx) => {
        if (!after) die();
        const out = await h[service]![operation]!(input, ctx);
        die();
        return out;
      },
    },
  });

const wrapHandlers: (h: ServiceHandlers) => ServiceHandlers =
  mode === 'update'
    ? killAround('personality', 'update', true)
    : killAround('personality', 'restore', mode === 'recover:after');
const store = await FileStore.open(dir);
const config = new ConfigurationService(store, {
  runLog: new FileRunLog(`${dir}/.troupe/runs`),
  wrapHandlers,
});
if (mode === 'update') await config.updatePersonality('hub', { bigFive: { openness: 99 } });
else await config.recover();
await store.close();
