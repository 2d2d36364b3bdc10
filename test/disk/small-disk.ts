import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A tmpfs of a few MiB mounted for a test, with a filler file to leave only so much free. */
export interface SmallDisk {
  path: string;
  /** A seeded directory on the disk that each case copies. */
  template: string;
  /** Fills the disk until about `leaveKiB` KiB are free. */
  fill(leaveKiB: number): Promise<void>;
  unfill(): Promise<void>;
  unmount(): Promise<void>;
}

export async function freeKiB(path: string): Promise<number> {
  const s = await statfs(path);
  return Math.floor((s.bavail * s.bsize) / 1024);
}

async function mount(sizeMiB: number): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'troupe-small-disk-'));
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', path]);
  } catch (e) {
    await rmdir(path).catch(() => undefined);
    throw e;
  }
  return path;
}

/** Why a small disk cannot be mounted here (not root, no mount permission), or undefined. */
export async function smallDiskUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root (CI runs as root)';
  try {
    const path = await mount(1);
    await exec('umount', [path]);
    await rmdir(path);
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
}

/** The reason `what` is skipped here, printed; undefined when a small disk can be mounted. */
export async function smallDiskSkipReason(what: string): Promise<string | undefined> {
  const reason = await smallDiskUnavailable();
  // biome-ignore lint/suspicious/noConsole: a test that needs root prints why it is skipped
  if (reason) console.warn(`${what} skipped: ${reason}`);
  return reason;
}

export async function mountSmallDisk(sizeMiB: number): Promise<SmallDisk> {
  const path = await mount(sizeMiB);
  const filler = join(path, 'filler');
  const unfill = () => rm(filler, { force: true });
  return {
    path,
    template: '',
    unfill,
    async fill(leaveKiB) {
      await unfill();
      const want = (await freeKiB(path)) - leaveKiB;
      if (want <= 0) return;
      const fh = await open(filler, 'w');
      try {
        const chunk = Buffer.alloc(64 * 1024);
        let left = want * 1024;
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          await fh.write(chunk, 0, n);
          left -= n;
        }
      } finally {
        await fh.close();
      }
    },
    async unmount() {
      await exec('umount', [path]).catch(() => exec('umount', ['-l', path]));
      await rmdir(path).catch(() => undefined);
    },
  };
}
