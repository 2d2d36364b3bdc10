#!/usr/bin/env node
// A transcript of the real CLI at work: `npm run demo [DIR]`.
// Runs `node bin/troupe.js --dir DIR ...` step by step, printing each command before its output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'troupe.js');

if (!existsSync(join(root, 'dist', 'bin', 'troupe.cjs'))) {
  console.error('dist/ is missing: run `npm ci` (which builds it) or `npm run build` first.');
  process.exit(1);
}

const dir = process.argv[2]
  ? resolve(process.argv[2])
  : join(mkdtempSync(join(tmpdir(), 'troupe-demo-')), 'config');
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);

/** Runs one troupe command; `expect` says whether it should succeed ('ok') or be refused ('refused'). */
function troupe(args, expect = 'ok') {
  console.log(`\n$ troupe --dir $DIR ${args.map(quote).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, '--dir', dir, ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  const ok = r.status === 0;
  if (!ok) console.log(`[exit ${r.status}${expect === 'refused' ? ': refused, as it should be' : ''}]`);
  if (ok !== (expect === 'ok')) {
    console.error(
      `\ndemo failed: \`troupe ${args.join(' ')}\` ${ok ? 'succeeded but should have been refused' : 'failed'}`,
    );
    process.exit(1);
  }
  return r;
}

console.log(`DIR=${dir}`);

console.log('\n# Create the configuration directory.');
troupe(['init']);

console.log('\n# A personality: a shipped preset, renamed and adjusted trait by trait.');
troupe(['personality', 'presets']);
troupe([
  'personality',
  'create',
  '--preset',
  'calm-analyst',
  '--name',
  'Steady Analyst',
  '--trait',
  'humor=30',
]);

console.log('\n# A custom role made from the predefined `analyst` role.');
troupe([
  'role',
  'create',
  '--from-template',
  'analyst',
  '--name',
  'Research Analyst',
  '--capability',
  'data-analysis',
  '--capability',
  'source-evaluation',
  '--capability',
  'reporting',
]);

console.log('\n# Two agents with that personality and role, on different models.');
console.log(
  '# --api-key-env names the environment variable that holds the key; the key itself is never stored.',
);
troupe([
  'agent',
  'create',
  '--name',
  'Ada',
  '--personality',
  'steady-analyst',
  '--role',
  'research-analyst',
  '--model',
  'claude-sonnet-4',
  '--temperature',
  '0.3',
  '--api-key-env',
  'ANTHROPIC_API_KEY',
]);
troupe([
  'agent',
  'create',
  '--name',
  'Otto',
  '--personality',
  'steady-analyst',
  '--role',
  'research-analyst',
  '--provider',
  'openai',
  '--model',
  'gpt-4o',
  '--temperature',
  '0.5',
  '--max-tokens',
  '2000',
  '--api-key-env',
  'OPENAI_API_KEY',
]);
troupe(['agent', 'list']);

console.log('\n# What an application hands to the model: the composed system prompt and the model settings.');
troupe(['agent', 'show', 'ada', '--resolved']);

console.log('\n# Deleting a personality that agents use is refused, naming them (nothing changes on disk).');
troupe(['personality', 'delete', 'steady-analyst'], 'refused');

console.log('\n# Every file of the directory checks out.');
troupe(['validate']);

console.log(`\nThe configuration is in ${dir}:`);
for (const kind of ['personalities', 'roles', 'agents', 'resolved']) {
  const files = readdirSync(join(dir, kind)).filter((f) => f.endsWith('.json'));
  console.log(`  ${kind}/  ${files.join('  ')}`);
}
console.log('\nDemo finished: every step did what it should.');
