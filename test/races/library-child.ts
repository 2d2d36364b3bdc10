// Run by library-races.test.ts as a separate process: `count` updates of personality hub
// through the library, as an application would make them. Prints one JSON line per update:
// what the call acknowledged (its revision and value), or the code it failed with.
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { STRATEGIES } from '../../src/configuration/conflict.js';
import { isTroupeError } from '../../src/domain/errors.js';
import { FileRunLog } from '../../src/orchestration/file-run-log.js';
import { FileStore } from '../../src/storage/file/store.js';

const [dir, who, count, mode] = process.argv.slice(2);
if (!dir || !who || !count || !mode)
  throw new Error('usage: library-child <dir> <who> <count> <cas|plain|mixed|bundle|strategies>');

const store = await FileStore.open(dir);
const config = new ConfigurationService(store, { runLog: new FileRunLog(`${dir}/.troupe/runs`) });
const lines: string[] = [];
/** Each acknowledgement goes out as it happens, so one from a process killed later is still seen. */
const say = (line: string) => {
  lines.push(line);
  if (mode !== 'bundle') process.stdout.write(`${line}\n`);
};
for (let i = 0; i < Number(count); i++) {
  const humor = (Number(who) * 1000 + i) % 101;
  const cas = mode === 'cas' || (mode === 'mixed' && i % 2 === 0);
  try {
    if (mode === 'bundle') {
      // Every bundle sets the same entities to values of its own: a mix would show.
      const t = (Number(who) * 100 + i) % 200;
      const r = await config.applyBundle({
        personalities: [
          {
            id: 'hub',
            name: 'Hub',
            bigFive: {
              openness: t % 101,
              conscientiousness: 80,
              extraversion: 30,
              agreeableness: 60,
              neuroticism: 10,
            },
            behaviors: { humor: t % 101 },
          },
        ],
        agents: [0, 1, 2].map((a) => ({
          id: `a${a}`,
          name: `A${a}`,
          personalityId: 'hub',
          roleId: 'reviewer',
          model: { provider: 'openai', modelId: 'gpt-4o', temperature: t / 100 },
        })),
      });
      lines.push(JSON.stringify({ ok: true, t, applied: r.applied }));
      continue;
    }
    const read = await store.get('personalities', 'hub');
    // `strategies`: a compare-and-swap on what was read, settled by each conflict strategy in turn.
    const strategy = mode === 'strategies' ? STRATEGIES[i % STRATEGIES.length] : undefined;
    const r = await config.updatePersonality(
      'hub',
      { behaviors: { humor } },
      strategy
        ? { expectedRevision: read!.revision, strategy, defaultRule: 'max' }
        : cas
          ? { expectedRevision: read!.revision }
          : {},
    );
    say(
      JSON.stringify({
        ok: true,
        revision: r.personality.revision,
        humor: r.personality.behaviors?.humor,
        cas,
        unchanged: r.unchanged,
        runId: r.runId,
        strategy,
      }),
    );
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    say(JSON.stringify({ ok: false, code: e.code, cas, message: e.message }));
  }
}
await store.close();
if (mode === 'bundle') process.stdout.write(`${lines.join('\n')}\n`);
