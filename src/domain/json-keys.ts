/**
 * The first key an object of this JSON text holds twice (JSON.parse keeps the last one without
 * a word), with its line; undefined when there is none. One pass over the text.
 */
export function duplicateJsonKey(text: string): { key: string; line: number } | undefined {
  const stack: Array<Set<string> | null> = [];
  let line = 1;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    else if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') stack.push(null);
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',') expectKey = stack.at(-1) instanceof Set;
    else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (expectKey && top instanceof Set) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return { key, line };
        top.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}
