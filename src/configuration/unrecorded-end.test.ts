import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { MemoryRunLog, type RunEvent } from '../orchestration/run-log.js';
import { MemoryStore } from '../storage/memory/store.js';
import { ConfigurationService } from './configuration-service.js';
import { calm, failure } from './test-setup.test-helper.js';

/** A run log whose disk fills up just as a run's end is written. */
class FullAtTheEnd extends MemoryRunLog {
  override async append(runId: string, event: RunEvent): Promise<void> {
    if (event.type === 'state' && event.to === 'completed')
      throw new TroupeError('IO_ERROR', 'could not write the run log: ENOSPC: no space left on device');
    return super.append(runId, event);
  }
}

describe('a change whose run could not record its end', () => {
  it('is not reported done: recovery would take it for interrupted and undo it', async () => {
    const store = new MemoryStore();
    const config = new ConfigurationService(store, { runLog: new FullAtTheEnd() });
    const e = await failure(config.createPersonality(calm));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toMatch(
      /^create-personality: the change was made, but the run log could not record that it finished \(.*ENOSPC.*\): it is not acknowledged/,
    );
  });
});
