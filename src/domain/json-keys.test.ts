import { describe, expect, it } from 'vitest';
import { duplicateJsonKey } from './json-keys.js';

describe('a key given twice in one JSON object', () => {
  it.each([
    ['{"a": 1, "a": 2}', { key: 'a', line: 1 }],
    ['{\n "a": 1,\n "b": {"a": 1, "c": 2},\n "a": 3\n}', { key: 'a', line: 4 }],
    ['{"x": "a \\"quoted\\" \\\\", "x": 1}', { key: 'x', line: 1 }],
    ['{"\\u0061": 1, "a": 2}', { key: 'a', line: 1 }],
    ['[{"a": 1}, {"a": 2}]', undefined],
    ['{"a": ["a", "a"], "b": "a"}', undefined],
    ['{"s": "{\\"a\\": 1, \\"a\\": 2}"}', undefined],
    ['{"back": "\\\\", "back2": 1}', undefined],
  ])('%s', (text, expected) => {
    JSON.parse(text); // every case is valid JSON
    expect(duplicateJsonKey(text)).toEqual(expected);
  });
});
