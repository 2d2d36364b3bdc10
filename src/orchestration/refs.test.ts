import { describe, expect, it } from 'vitest';
import { hasRefs, isRef, resolveRefs } from './refs.js';

const scope = {
  input: { name: 'Ada', tags: ['x', 'y'] },
  steps: new Map([
    ['create', { input: { n: 1 }, output: { agent: { id: 'ada', version: 3 }, list: [{ id: 'first' }] } }],
  ]),
};

describe('resolveRefs', () => {
  it('replaces refs anywhere in the value, deep, leaving other values alone', () => {
    const value = {
      id: { $ref: 'steps.create.output.agent.id' },
      nested: [{ first: { $ref: 'steps.create.output.list.0.id' } }, 'plain', { $ref: 'input.tags.1' }],
      whole: { $ref: 'input' },
      keep: 5,
    };
    expect(resolveRefs(value, scope, 'step')).toEqual({
      id: 'ada',
      nested: [{ first: 'first' }, 'plain', 'y'],
      whole: scope.input,
      keep: 5,
    });
    expect(value.id).toEqual({ $ref: 'steps.create.output.agent.id' });
  });

  it('passes a value without refs through untouched (same object)', () => {
    const value = { a: [1, { b: 2 }] };
    expect(hasRefs(value)).toBe(false);
    expect(resolveRefs(value, scope, 'x')).toBe(value);
  });

  it('names the ref and the missing field when it cannot resolve', () => {
    expect(() => resolveRefs({ $ref: 'steps.create.output.agent.role' }, scope, 'step "b" input')).toThrow(
      'step "b" input: cannot resolve $ref "steps.create.output.agent.role": agent has no field "role"',
    );
    expect(() => resolveRefs({ $ref: 'steps.later.output' }, scope, 'here')).toThrow(
      /step "later" has no result/,
    );
  });

  it('only treats an object with exactly one string $ref as a ref', () => {
    expect(isRef({ $ref: 'input' })).toBe(true);
    expect(isRef({ $ref: 'input', other: 1 })).toBe(false);
    expect(isRef({ $ref: 3 })).toBe(false);
  });
});
