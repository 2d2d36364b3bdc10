import { describe, expect, it } from 'vitest';
import { utf8Text } from './utf8.js';

describe('bytes read as UTF-8', () => {
  it.each([
    ['a Latin-1 byte', [0x63, 0x61, 0x66, 0xe9], 3],
    ['a surrogate encoded (CESU-8)', [0x61, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], 1],
    ['an overlong three-byte form', [0x61, 0x62, 0xe0, 0x80, 0xaf], 2],
    ['an overlong four-byte form', [0xf0, 0x80, 0x80, 0xaf], 0],
    ['a code point past U+10FFFF', [0x61, 0xf4, 0x90, 0x80, 0x80], 1],
    ['a sequence cut short', [0x61, 0xe2, 0x82], 1],
  ])('%s: refused, at the byte where it stops being UTF-8', (_what, bytes, at) => {
    expect(utf8Text(new Uint8Array(bytes))).toEqual({ ok: false, at });
  });

  it('text, a U+FFFD and a BOM included, is read as it is', () => {
    const text = '\ufeff{"n": "caf\u00e9 \ufffd \u{1F600}"}';
    expect(utf8Text(new TextEncoder().encode(text))).toEqual({ ok: true, text });
  });
});
