import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { MemoryRunLog, type RunEvent } from '../orchestration/run-log.js';
import { MemoryStore } from '../storage/memory/store.js';
import { ConfigurationService } from './configuration-service.js';
import { calm, failure } from './test-setup.test-helper.js';

/** A run log whose disk is full for the writes `failing` picks. */
class FullFor extends MemoryRunLog {
  refused = 0;
  constructor(readonly failing: (e: RunEvent) => boolean) {
    super();
  }
  override async append(runId: string, event: RunEvent): Promise<void> {
    if (this.failing(event) && ++this.refused)
      throw new TroupeError('IO_ERROR', 'could not write the run log: ENOSPC: no space left on device');
    return super.append(runId, event);
  }
}

describe('a change whose run could not record its end', () => {
  it('is not reported done: recovery would take it for interrupted and undo it', async () => {
    const store = new MemoryStore();
    const config = new ConfigurationService(store, {
      runLog: new FullFor((e) => e.type === 'state' && e.to === 'completed'),
    });
    const e = await failure(config.createPersonality(calm));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toMatch(
      /^create-personality: the change was made, but the run log could not record that it finished \(.*ENOSPC.*\): it is not acknowledged/,
    );
  });

  it('is reported done when only a write before its end was lost, and its end is recorded', async () => {
    const store = new MemoryStore();
    const runLog = new FullFor((e) => e.type === 'checkpoint');
    const config = new ConfigurationService(store, { runLog });
    const r = await config.createPersonality(calm);
    expect(r).toMatchObject({ id: 'calm', revision: 1 });
    expect(runLog.refused).toBeGreaterThan(0);
    const [run] = await runLog.list();
    expect(run?.state).toBe('completed');
  });
});
