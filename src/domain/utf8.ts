const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A file's bytes as text, or where they stop being UTF-8: bytes that are not are never turned
 * into U+FFFD unseen (a U+FFFD written as UTF-8 is text like any other). A BOM is kept.
 */
export function utf8Text(bytes: Uint8Array): { ok: true; text: string } | { ok: false; at: number } {
  try {
    return { ok: true, text: fatal.decode(bytes) };
  } catch {
    return { ok: false, at: firstInvalidByte(bytes) };
  }
}

/**
 * Where a byte sequence stops being UTF-8 (for the message): a walk of the encoding, with the
 * second byte's narrower ranges (no overlong forms, no surrogates, nothing past U+10FFFF).
 */
export function firstInvalidByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const n =
      b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    const second = bytes[i + 1] ?? 0;
    const [lo, hi] =
      b === 0xe0
        ? [0xa0, 0xbf]
        : b === 0xed
          ? [0x80, 0x9f]
          : b === 0xf0
            ? [0x90, 0xbf]
            : b === 0xf4
              ? [0x80, 0x8f]
              : [0x80, 0xbf];
    if (n > 0 && (second < lo || second > hi)) return i;
    for (let k = 2; k <= n; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return bytes.length;
}
