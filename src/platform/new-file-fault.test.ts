import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Read when disk.ts loads: its first durable file write fails as a failing (or full) disk's would.
process.env.TROUPE_DISK_FAULT = 'sync:file';
const disk = await import('./disk.js');
const dir = mkdtempSync(join(tmpdir(), 'troupe-new-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeNewFile when the write fails', () => {
  it('takes away the new file it created (wx), so no empty lease or marker is left behind', async () => {
    const path = join(dir, 'run.lease.1');
    await expect(disk.writeNewFile(path, '{"epoch":1}', 'wx', 'file')).rejects.toMatchObject({ code: 'EIO' });
    expect(existsSync(path)).toBe(false);
    // Not a file of someone else's: one that existed is refused, and left as it was.
    writeFileSync(path, 'theirs');
    await expect(disk.writeNewFile(path, 'mine', 'wx')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('theirs');
  });
});
