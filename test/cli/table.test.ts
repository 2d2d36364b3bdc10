import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/format.js';

describe('a listing table', () => {
  it('pads columns to the widest cell, however many rows (300,000 is more than a call takes as arguments)', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => [`agent-${i}`, i === 7 ? 'longest value' : 'x']);
    const lines = table(['ID', 'V'], rows);
    expect(lines).toHaveLength(300_001);
    expect(lines[0]).toBe(`ID${' '.repeat('agent-299999'.length - 2)}  V`);
    expect(lines[8]).toBe(`agent-7${' '.repeat('agent-299999'.length - 'agent-7'.length)}  longest value`);
  });
});
