/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroupeError } from '../../src/domain/errors.js';
import { workflow } from '../../src/orchestration/builder.js';
import { FileRunLog } from '../../src/orchestration/file-run-log.js';
import { WorkflowRunner } from '../../src/orchestration/runner.js';
import { calm, serving } from './harness.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

const CHROMIUM = process.env.TROUPE_CHROMIUM ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM)
  ? undefined
  : `no browser at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does)`;
if (missing && process.env.CI === 'true') throw new Error(`CI must provide chromium: ${missing}`);
if (missing) process.stderr.write(`skipping the browser tests: ${missing}\n`);

/** Screenshots of each view, kept as test artifacts. */
const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

describe.runIf(!missing)('the dashboard in a real browser', () => {
  let browser: Browser;
  let s: Awaited<ReturnType<typeof serving>>;
  let page: Page;
  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${s.http.url}/api${path}`, { method, headers: JSON_TYPE, body: JSON.stringify(body) }).then(
      async (r) => {
        if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
        return r.json();
      },
    );
  const shot = async (name: string) => {
    await mkdir(SHOTS, { recursive: true });
    await writeFile(join(SHOTS, `${name}.png`), await page.screenshot({ fullPage: true }));
  };

  beforeAll(async () => {
    s = await serving();
    await post('/personalities', calm);
    await post('/personalities', {
      ...calm,
      id: 'bold',
      name: 'Bold',
      bigFive: { ...calm.bigFive, extraversion: 90, neuroticism: 50 },
    });
    await post('/roles', {
      id: 'reviewer',
      name: 'Reviewer',
      systemPrompt: 'Review code.',
      capabilities: ['code-review'],
    });
    for (const [id, p] of [
      ['ada', 'calm'],
      ['bo', 'bold'],
    ] as const)
      await post('/agents', {
        id,
        name: id.toUpperCase(),
        personalityId: p,
        roleId: 'reviewer',
        model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--disable-background-networking', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('shows the cast as cards with each Big Five radar, and a radar follows an update made through the API without a reload', async () => {
    await page.goto(s.http.url);
    const radar = page.locator('[data-personality=calm] svg.radar');
    await radar.waitFor();
    expect(await page.locator('article.card').count()).toBe(2);
    const before = await radar.getAttribute('data-points');
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await shot('cast');
    await post('/personalities/calm', { bigFive: { openness: 100 } }, 'PATCH');
    await page.waitForFunction(
      (b) => document.querySelector('[data-personality=calm] svg.radar')?.getAttribute('data-points') !== b,
      before,
    );
    const after = (await radar.getAttribute('data-points')) as string;
    // Openness is the top axis: at 100 its point is the radar's full radius above the centre.
    expect(after.split(' ')[0]).toBe('90,28');
    expect(await radar.getAttribute('aria-label')).toContain('openness 100');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
  });

  it('draws the dependency graph, marking an agent stale after its personality is edited by hand', async () => {
    const file = join(s.dir, 'personalities', 'bold.json');
    const { readFile } = await import('node:fs/promises');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...doc, name: 'Bolder (by hand)' }, null, 2));
    await page.reload();
    await page.getByRole('button', { name: 'Dependencies' }).click();
    await page.locator('rect[data-agent=ada]').waitFor();
    await page.waitForSelector('rect.node.agent.stale[data-agent=bo]');
    expect(await page.locator('rect.node.agent.stale').count()).toBe(1);
    expect(await page.locator('svg.graph text').allTextContents()).toEqual(
      expect.arrayContaining(['personality: calm', 'role: reviewer', 'bo ⚠ stale']),
    );
    await shot('graph');
  });

  it("shows a run's timeline with its compensation lane in unwind order, and a new run appears without a reload", async () => {
    await page.getByRole('button', { name: 'Runs' }).click();
    const runner = new WorkflowRunner({
      services: {
        s: {
          a: async () => 'a',
          b: async () => 'b',
          c: async () => {
            throw new TroupeError('TRANSIENT', 'c is away');
          },
          undo: async () => undefined,
        },
      },
      runLog: new FileRunLog(join(s.dir, '.troupe/runs')),
    });
    const def = workflow('three-steps')
      .step('first', 's', 'a', { compensate: { operation: 'undo' } })
      .step('second', 's', 'b', { compensate: { operation: 'undo' }, dependsOn: ['first'] })
      .step('third', 's', 'c', {
        dependsOn: ['second'],
        policy: { retry: { maxAttempts: 2, baseDelayMs: 1 } },
      })
      .build();
    const result = await runner.run(def, {}, { runId: 'unwinds' });
    expect(result.status).toBe('compensated');
    const button = page.locator('button[data-run=unwinds]');
    await button.waitFor(); // appears by itself: the page was not reloaded
    await button.click();
    await page.locator('rect[data-compensation]').first().waitFor();
    const lane = await page
      .locator('rect[data-compensation]')
      .evaluateAll((rs) =>
        rs.map((r) => `${r.getAttribute('data-order')}:${r.getAttribute('data-compensation')}`),
      );
    expect(lane).toEqual(['1:second', '2:first']);
    expect(await page.locator('rect.bar.failed[data-step=third]').count()).toBe(2); // both attempts
    await shot('timeline');
  });

  it('shows the dry-run diff of a bundle before applying it, in light and dark', async () => {
    await page.getByRole('button', { name: 'Apply a bundle' }).click();
    const current = (await (await fetch(`${s.http.url}/api/personalities/calm`)).json()) as {
      bigFive: unknown;
    };
    await page.locator('#bundle').fill(
      JSON.stringify({
        personalities: [
          { ...calm, id: 'new-one', name: 'New' },
          { ...calm, bigFive: current.bigFive, name: 'Calm again' },
        ],
      }),
    );
    await page.getByRole('button', { name: 'Show the diff' }).click();
    await page.locator('.diff li.create').first().waitFor();
    const lines = await page.locator('.diff > li').allTextContents();
    expect(lines.some((l) => l.startsWith('create personalities/new-one'))).toBe(true);
    expect(await page.locator('.diff li.field').allTextContents()).toContain('name: "Calm" → "Calm again"');
    // An edit after the diff was shown asks for a new one before Apply.
    expect(await page.locator('#do-apply').isEnabled()).toBe(true);
    await page.locator('#bundle').press('End');
    await page.locator('#bundle').press('Space');
    expect(await page.locator('#do-apply').isEnabled()).toBe(false);
    await page.getByRole('button', { name: 'Show the diff' }).click();
    await page.locator('.diff li.create').first().waitFor();
    await shot('apply');
    await page.locator('#theme').click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(21, 22, 26)',
    );
    await shot('apply-dark');
    // Everything is reachable by keyboard: the views are buttons in tab order.
    await page.goto(s.http.url);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cast');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.locator('#graph').isVisible()).toBe(true);
    expect(await page.locator('#cast').isVisible()).toBe(false);
  });
});
