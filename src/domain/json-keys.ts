/**
 * The first key an object of this JSON text holds twice (JSON.parse keeps the last one without
 * a word), with its line; undefined when there is none. One pass over the text, jumping over
 * each string (most of a document) with indexOf.
 */
export function duplicateJsonKey(text: string): { key: string; line: number } | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === 0x5b /* [ */) stack.push(null);
    else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) stack.pop();
    else if (ch === 0x2c /* , */) expectKey = stack.at(-1) instanceof Set;
    else if (ch === 0x22 /* " */) {
      const end = closingQuote(text, i + 1);
      const top = stack.at(-1);
      if (expectKey && top instanceof Set) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.has(key)) return { key, line: lineAt(text, i) };
        top.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

/** Where the string whose text starts at `from` ends: its closing quote (one no backslash escapes). */
function closingQuote(text: string, from: number): number {
  for (let q = text.indexOf('"', from); q >= 0; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return text.length;
}

const lineAt = (text: string, at: number) => {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
};
