// Run as a child process by workflow-crash.test.ts: starts a workflow on a file store and
// kills itself with SIGKILL at the requested step, as a real crash would.
import { FileRunLog } from '../orchestration/file-run-log.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { FileStore } from '../storage/file/store.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm } from './test-setup.test-helper.js';

const [dir, point] = process.argv.slice(2);
if (!dir || !point) throw new Error('usage: workflow-crash-child <dir> <service.operation[:after]>');
const [target, when] = point.split(':');

const wrap = (h: ServiceHandlers): ServiceHandlers => {
  const [service, operation] = target!.split('.') as [string, string];
  const real = h[service]![operation]!;
  return {
    ...h,
    // A failing verify forces compensation, so a crash can also be placed inside a revert.
    ...(when === 'in-compensation'
      ? {
          configuration: {
            ...h.configuration,
            verify: async () => Promise.reject(new Error('check failed')),
          },
        }
      : {}),
    [service]: {
      ...h[service],
      [operation]: async (input, ctx) => {
        if (when !== 'after') process.kill(process.pid, 'SIGKILL');
        const out = await real(input, ctx);
        process.kill(process.pid, 'SIGKILL');
        return out;
      },
    },
  };
};

const store = await FileStore.open(dir);
const config = new ConfigurationService(store, {
  runLog: new FileRunLog(`${dir}/.troupe/runs`),
  wrapHandlers: wrap,
});
await config.createAgent({
  agent: agentInput('crashy', { personalityId: 'fresh' }),
  personality: { ...calm, id: 'fresh', name: 'Fresh' },
});
