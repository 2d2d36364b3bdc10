import { describe, expect, it } from 'vitest';
import { isTroupeError } from '../domain/errors.js';
import { parseText } from './file-service.js';

const messageOf = (text: string, file: string) => {
  try {
    parseText(text, file);
  } catch (e) {
    if (isTroupeError(e)) return e.message;
  }
  return 'no error';
};

describe('parseText', () => {
  it('reads YAML and JSON', () => {
    expect(parseText('name: Calm\nbigFive:\n  openness: 5\n', 'p.yaml')).toEqual({
      name: 'Calm',
      bigFive: { openness: 5 },
    });
    expect(parseText('{"a":1}', 'p.json')).toEqual({ a: 1 });
  });

  it('names the file, line and column of a YAML error, once', () => {
    const m = messageOf('a: [1,\nb: 2', 'cast/p.yaml');
    expect(m).toMatch(/^cast\/p\.yaml: invalid YAML at line \d+ column \d+: /);
    expect(m).not.toMatch(/:$/);
    expect(m.match(/line/g)).toHaveLength(1);
  });

  it('names the file, line and column of a JSON error', () => {
    expect(messageOf('{\n  "a": 1,\n  oops\n}', 'p.json')).toMatch(
      /^p\.json: invalid JSON at line 3 column \d+/,
    );
  });

  it('refuses duplicate YAML keys', () => {
    expect(messageOf('name: a\nname: b\n', 'p.yml')).toMatch(/p\.yml: invalid YAML/);
  });
});
