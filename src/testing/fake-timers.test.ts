import { afterEach, describe, expect, it, vi } from 'vitest';
import { samplePersonality } from './samples.js';
import { createTestConfiguration } from './test-configuration.js';

afterEach(() => {
  vi.useRealTimers();
});

describe("the kit under a test runner's fake timers", () => {
  it('drive() still settles a change: it moves its own clock, never the faked global timers', async () => {
    vi.useFakeTimers();
    const tc = createTestConfiguration({ seed: 1 });
    const created = await tc.drive(tc.config.createPersonality(samplePersonality));
    expect(created.id).toBe(samplePersonality.id);
    expect(await tc.store.get('personalities', samplePersonality.id)).toBeDefined();
  });
});
