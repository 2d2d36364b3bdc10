// Removes each fsync of the file store and the run log in turn, in a scratch copy of the
// project, and runs the power-loss tests against it: each removal must make a test fail.
//   npx tsx scripts/fsync-mutations.ts [--json] [--only ID]
// Prints, for each fsync, the test that failed without it (or "NOT CAUGHT"); exits 1 when any
// removal went unnoticed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Mutation {
  id: string;
  what: string;
  file: string;
  find: string;
  replace: string;
}

export interface MutationResult extends Mutation {
  caught: boolean;
  by: string[];
  error?: string;
}

export const MUTATIONS: Mutation[] = [
  {
    id: 'journal-commit',
    what: "the journal's fdatasync of a commit record",
    file: 'src/storage/file/journal.ts',
    find: "      crashPoint('journal:written', this.path);\n      await disk.sync(fd, 'journal', this.path, true);",
    replace: "      crashPoint('journal:written', this.path);",
  },
  {
    id: 'journal-cut-back',
    what: 'the fsync of a journal cut back after a failed commit',
    file: 'src/storage/file/journal.ts',
    find: ".then(() => disk.sync(fd, 'journal', this.path))",
    replace: '.then(() => undefined)',
  },
  {
    id: 'journal-truncate',
    what: 'the fsync of the journal emptied by a checkpoint',
    file: 'src/storage/file/journal.ts',
    find: "      await disk.truncate(cur.fd, length);\n      await disk.sync(cur.fd, 'journal', this.path);",
    replace: '      await disk.truncate(cur.fd, length);',
  },
  {
    id: 'journal-create-dir',
    what: 'the fsync of .troupe after the journal is created again',
    file: 'src/storage/file/journal.ts',
    find: '      await fsyncDir(dirname(this.path));',
    replace: '      void fsyncDir;',
  },
  {
    id: 'file-before-rename',
    what: 'the fsync of a durable file before it is renamed into place',
    file: 'src/storage/file/atomic-write.ts',
    find: "    await disk.sync(fd, 'file', path);\n    const done = fd;",
    replace: '    const done = fd;',
  },
  {
    id: 'checkpoint-files',
    what: 'the fsync of each file a checkpoint lets go',
    file: 'src/storage/file/atomic-write.ts',
    find: "    fd = await disk.open(path, 'r+');\n    await disk.sync(fd, 'file', path);",
    replace: "    fd = await disk.open(path, 'r+');",
  },
  {
    id: 'checkpoint-dirs',
    what: 'the fsync of each folder a checkpoint lets go',
    file: 'src/storage/file/recovery.ts',
    find: '    await Promise.all([...dirs].map((d) => fsyncDir(d)));',
    replace: '',
  },
  {
    id: 'new-folders',
    what: 'the fsync of the parent of each folder created',
    file: 'src/platform/disk.ts',
    find: '  await Promise.all([...new Set(made)].map((d) => syncDir(dirname(d))));',
    replace: '',
  },
  {
    id: 'runlog-line',
    what: "the fsync of a run log's intent, deferral, compensation and final lines",
    file: 'src/orchestration/file-run-log.ts',
    find: "        await disk.sync(h, 'runlog', runId);",
    replace: '',
  },
  {
    id: 'runlog-new-file',
    what: 'the fsync of the runs folder after a run log is created',
    file: 'src/orchestration/file-run-log.ts',
    find: '        await disk.syncDir(this.dir);',
    replace: '',
  },
  {
    id: 'runlog-compacted',
    what: 'the fsync of a compacted run log before it replaces the whole one',
    file: 'src/orchestration/file-run-log.ts',
    find: "'w', 'runlog');",
    replace: "'w');",
  },
  {
    id: 'init-folders',
    what: 'the fsync of .troupe and the root when a store is created',
    file: 'src/storage/file/marker.ts',
    find: '  await fsyncDir(layout.troupe);\n  await fsyncDir(layout.root);',
    replace: '',
  },
];

const TESTS = ['test/power'];

function run(cmd: string, args: string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** The failing tests' names, from vitest's JSON report. */
function failures(report: {
  testResults?: Array<{ name: string; assertionResults?: Array<{ title: string; status: string }> }>;
}): string[] {
  const out: string[] = [];
  for (const file of report.testResults ?? [])
    for (const t of file.assertionResults ?? [])
      if (t.status === 'failed') out.push(`${file.name.replace(/^.*?\/test\//, 'test/')} › ${t.title}`);
  return out;
}

export function mutate(root: string, m: Mutation): MutationResult {
  const scratch = mkdtempSync(join(tmpdir(), `troupe-mutant-${m.id}-`));
  try {
    cpSync(root, scratch, {
      recursive: true,
      filter: (src) => !/\/(node_modules|dist|\.git)(\/|$)/.test(src.slice(root.length)),
    });
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
    const path = join(scratch, m.file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(m.find)) return { ...m, caught: false, by: [], error: `not found in ${m.file}` };
    writeFileSync(path, text.replace(m.find, m.replace));
    const build = run('npx', ['tsc', '-p', 'tsconfig.build.json'], scratch);
    if (build.status !== 0) return { ...m, caught: false, by: [], error: `build failed: ${build.stdout}` };
    const report = join(scratch, 'report.json');
    run('npx', ['vitest', 'run', ...TESTS, '--reporter=json', `--outputFile=${report}`], scratch);
    const by = failures(JSON.parse(readFileSync(report, 'utf8')));
    return { ...m, caught: by.length > 0, by };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const results: MutationResult[] = [];
  for (const m of MUTATIONS.filter((x) => !only || x.id === only)) {
    const r = mutate(root, m);
    results.push(r);
    if (!process.argv.includes('--json'))
      process.stdout.write(
        `${r.caught ? 'caught    ' : 'NOT CAUGHT'} ${m.id} (${m.what})${r.error ? `: ${r.error}` : ''}\n${r.by
          .slice(0, 3)
          .map((b) => `           ${b}\n`)
          .join('')}`,
      );
  }
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  process.exitCode = results.every((r) => r.caught) ? 0 : 1;
}
