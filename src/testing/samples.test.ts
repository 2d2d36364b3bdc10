import { describe, expect, it } from 'vitest';
import { loadFixtures } from './fixtures/load.js';
import { samplePersonality, sampleRole } from './samples.js';

describe('the shared samples and fixtures', () => {
  it('are frozen: a test cannot change what the next one gets', () => {
    expect(() => {
      (samplePersonality.bigFive as { openness: number }).openness = 1;
    }).toThrow(TypeError);
    expect(() => (sampleRole.capabilities as string[]).push('x')).toThrow(TypeError);
    expect(Object.isFrozen(loadFixtures())).toBe(true);
    expect(samplePersonality.bigFive.openness).toBe(60);
  });
});
