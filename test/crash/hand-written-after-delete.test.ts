import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { troupe } from '../races/processes.js';

// A personality written by hand (no metadata, so revision 0) is deleted; the command is killed
// after its commit. The user then writes a new file of the same id by hand. Neither the store's
// recovery (which brings the last commit's files to their final state) nor the run's
// compensation may take that newer file: both hand-written files are revision 0, and only the
// content tells them apart.
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const hand = (name: string) =>
  `${JSON.stringify({
    id: 'x',
    name,
    bigFive: { openness: 10, conscientiousness: 10, extraversion: 10, agreeableness: 10, neuroticism: 10 },
  })}\n`;

describe('a file written by hand after a killed delete of an earlier one', () => {
  it('is kept by the next command: recovery neither deletes it nor writes the old one back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-hand-after-delete-'));
    dirs.push(dir);
    expect((await troupe(dir, ['init'])).code).toBe(0);
    const file = join(dir, 'personalities', 'x.json');
    await writeFile(file, hand('Hand X'));
    const killed = await troupe(dir, ['personality', 'delete', 'x'], { TROUPE_CRASH_AT: 'step:verify' });
    expect(killed.signal).toBe('SIGKILL');
    await writeFile(file, hand('Newer, by hand'));
    const next = await troupe(dir, ['personality', 'list', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(hand('Newer, by hand'));
    // The compensation says it left the file as it found it.
    expect(next.stderr).toMatch(
      /skipped undo of personalities\/x \(this run wrote its deletion; now a file written by hand by another writer\)/,
    );
  });
});
