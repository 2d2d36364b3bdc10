import { describe, expect, it } from 'vitest';
import { locateJsonError } from './json-position.js';

describe('locateJsonError', () => {
  it('accepts valid JSON', () => {
    for (const t of ['{}', ' [1, -2.5e3, "a\\n\\u00e9", true, null, {"a": {}}] ', '"x"', '0']) {
      expect(locateJsonError(t), t).toBeUndefined();
      expect(() => JSON.parse(t)).not.toThrow();
    }
  });

  it.each([
    ['{\n  "id": "calm",\n    name: 1\n}', 3, 5, 'expected a double-quoted property name'],
    ['{\n  "a": 1,\n}', 3, 1, 'trailing comma before "}"'],
    ['{"a": 1 "b": 2}', 1, 9, 'expected "," or "}"'],
    ['{"a": tru}', 1, 7, 'expected a value'],
    ['{"a": "x\ny"}', 1, 9, 'line break or control character'],
    ['{"a": 1', 1, 8, 'end of file'],
    ['{"a": 01}', 1, 8, 'expected "," or "}"'],
    ['{} {}', 1, 4, 'after the end of the JSON value'],
    ['', 1, 1, 'expected a value'],
  ])('%j: line %i column %i', (text, line, column, message) => {
    expect(() => JSON.parse(text)).toThrow();
    const at = locateJsonError(text);
    expect(at).toMatchObject({ line, column });
    expect(at?.message).toContain(message);
  });
});
