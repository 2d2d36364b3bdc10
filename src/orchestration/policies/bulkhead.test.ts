import { describe, expect, it } from 'vitest';
import type { TroupeError } from '../../domain/errors.js';
import { VirtualClock } from '../clock.js';
import { Bulkhead } from './bulkhead.js';
import { startCall } from './policy.js';
import { ok, type Result } from './result.js';

describe('Bulkhead', () => {
  it('runs maxConcurrent, queues maxQueue in order, rejects the rest with BULKHEAD_FULL', async () => {
    const clock = new VirtualClock();
    const pool = new Bulkhead('non-critical', { maxConcurrent: 2, maxQueue: 1 });
    const started: string[] = [];
    const job = (name: string) =>
      pool.execute(async () => {
        started.push(`${name}@${clock.now()}`);
        await clock.sleep(100);
        return ok(name);
      });
    const results = [job('a'), job('b'), job('c'), job('d')];
    expect(pool.running).toBe(2);
    expect(pool.queued).toBe(1);
    const all: Result[] = await clock.drive(Promise.all(results));
    expect(all.map((r) => (r.ok ? r.value : (r.error as TroupeError).code))).toEqual([
      'a',
      'b',
      'c',
      'BULKHEAD_FULL',
    ]);
    expect(started).toEqual(['a@0', 'b@0', 'c@100']);
    expect(pool.running).toBe(0);
  });

  it('a queued call leaves the queue when its signal aborts', async () => {
    const pool = new Bulkhead('p', { maxConcurrent: 1, maxQueue: 5 });
    let release: () => void = () => {};
    const first = pool.execute(
      () =>
        new Promise<Result>((resolve) => {
          release = () => resolve(ok(1));
        }),
    );
    const controller = new AbortController();
    const queued = pool.execute(async () => ok(2), startCall(controller.signal));
    expect(pool.queued).toBe(1);
    controller.abort();
    const r = await queued;
    expect(!r.ok && (r.error as TroupeError).code).toBe('CANCELLED');
    expect(pool.queued).toBe(0);
    release();
    await first;
    expect(pool.running).toBe(0);
  });
});
