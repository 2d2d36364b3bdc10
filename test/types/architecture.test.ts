import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

/** The README's Architecture table: each room and the rooms it may import. */
function rules(): Map<string, Set<string>> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('## Library'));
  const rows = [...table.matchAll(/^\| `(\w+)\/` \| .* \| ([^|]+) \|$/gm)].map(
    (m) => [m[1] as string, (m[2] as string).trim()] as const,
  );
  const order = rows.map(([room]) => room);
  const out = new Map<string, Set<string>>();
  for (const [room, imports] of rows) {
    const above = order.slice(0, order.indexOf(room));
    out.set(
      room,
      new Set(
        imports === 'nothing of troupe'
          ? []
          : imports === 'every room above'
            ? above
            : imports.startsWith('every room but ')
              ? order.filter((r) => r !== room && r !== imports.slice('every room but '.length))
              : imports.split(',').map((s) => s.trim()),
      ),
    );
  }
  return out;
}

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : /\.ts$/.test(e.name) && !/\.test(-helper)?\.ts$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );

describe('the rooms of src/', () => {
  it('import only what the README says they may', () => {
    const allowed = rules();
    expect([...allowed.keys()].sort()).toEqual(
      readdirSync(src, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
    );
    const wrong: string[] = [];
    for (const file of files(src)) {
      const room = relative(src, file).split(sep)[0] as string;
      if (!allowed.has(room)) continue; // src/index.ts: the package root re-exports rooms
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = relative(src, resolve(file, '..', m[1] as string)).split(sep)[0] as string;
        if (target !== room && !allowed.get(room)?.has(target))
          wrong.push(`${relative(root, file)} imports ${target}/`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
