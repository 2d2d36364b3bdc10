import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type BenchRow, formatTable, isMain, withRatios } from './run.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

const bin = fileURLToPath(new URL('../bin/troupe.js', import.meta.url));

/** `troupe serve` in a process of its own (the built command), on a fresh directory. */
async function server(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const init = spawn(process.execPath, [bin, 'init'], { cwd: dir, stdio: 'ignore' });
  await new Promise((r) => init.on('exit', r));
  const p = spawn(process.execPath, [bin, 'serve', '--port', '0', '--json'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out) as { listening: string }).listening);
    });
  });
  return {
    url,
    stop: async () => {
      const gone = new Promise((r) => p.on('exit', r));
      p.kill('SIGTERM');
      await gone;
    },
  };
}

const load = (url: string, seconds: number) =>
  autocannon({ url, connections: 10, duration: seconds, pipelining: 1 }) as Promise<{
    requests: { average: number };
    latency: { p99: number; p50: number };
    non2xx: number;
  }>;

/**
 * Reads of one agent's resolved configuration from `troupe serve` (a process of its own) under
 * autocannon on loopback, 10 connections; the baseline is a static route (the dashboard's
 * style, no store read) measured in the same run.
 */
export async function serveBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-serve-bench-'));
  const s = await server(dir);
  try {
    const post = (path: string, body: unknown) =>
      fetch(`${s.url}/api${path}`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) }).then(
        (r) => {
          if (!r.ok) throw new Error(`POST ${path}: ${r.status}`);
        },
      );
    await post('/personalities', {
      id: 'calm',
      name: 'Calm',
      bigFive: { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
    });
    await post('/roles', {
      id: 'reviewer',
      name: 'Reviewer',
      systemPrompt: 'Review code.',
      capabilities: ['code-review'],
    });
    await post('/agents', {
      id: 'ada',
      name: 'Ada',
      personalityId: 'calm',
      roleId: 'reviewer',
      model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
    });
    await load(`${s.url}/api/agents/ada/resolved`, 2); // warm-up
    const base = await load(`${s.url}/dashboard.css`, 5);
    const reads = await load(`${s.url}/api/agents/ada/resolved`, 5);
    if (reads.non2xx > 0) throw new Error(`${reads.non2xx} reads failed`);
    return withRatios([
      { name: 'GET /dashboard.css (static, no store read)', value: base.requests.average, unit: 'req/s' },
      {
        name: 'GET a resolved agent (file store)',
        value: reads.requests.average,
        unit: 'req/s',
        baseline: 'GET /dashboard.css (static, no store read)',
      },
      { name: '  its p50 latency', value: reads.latency.p50, unit: 'ms' },
      { name: '  its p99 latency', value: reads.latency.p99, unit: 'ms' },
    ]);
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta)) console.log(formatTable(await serveBench()));
