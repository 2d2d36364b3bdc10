import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Builds `dist/` once before any test file runs: the tests that start `bin/troupe.js` as real
 * processes run the compiled and bundled CLI, and must never see it half rewritten by another file's build.
 */
export default function setup(): void {
  const repo = fileURLToPath(new URL('../', import.meta.url));
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (tsc.status !== 0 || !existsSync(new URL('../dist/cli/main.js', import.meta.url)))
    throw new Error(`build failed:\n${tsc.stdout}${tsc.stderr}`);
  // bin/troupe.js runs the bundled CLI, built from dist/ (scripts/bundle-cli.mjs).
  const bundle = spawnSync(process.execPath, ['scripts/bundle-cli.mjs'], { cwd: repo, encoding: 'utf8' });
  if (bundle.status !== 0 || !existsSync(new URL('../dist/bin/troupe.cjs', import.meta.url)))
    throw new Error(`bundling the CLI failed:\n${bundle.stdout}${bundle.stderr}`);
}
