import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../storage/file/store.js';
import { ConfigurationService } from './configuration-service.js';
import { checkScope } from './integrity.js';
import { agentInput, calm, reviewer } from './test-setup.test-helper.js';

let dir: string | undefined;
let store: FileStore | undefined;
afterEach(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A file store with personality calm, role reviewer and agent a1, and `file` then overwritten by hand. */
async function handEdited(file: string, text: string) {
  dir = await mkdtemp(join(tmpdir(), 'troupe-consistency-'));
  store = await FileStore.init(dir);
  const config = new ConfigurationService(store);
  await config.createPersonality(calm);
  await config.createRole(reviewer);
  await config.createAgent({ agent: agentInput('a1') });
  await writeFile(join(dir, file), text);
  return config;
}

describe('detectInconsistencies on a directory edited by hand', () => {
  it('reports a broken personality file once, not its agents as dangling', async () => {
    const config = await handEdited('personalities/calm.json', '{ "id": "calm", "name": ');
    const found = await config.detectInconsistencies();
    expect(found.map((f) => `${f.kind}:${f.file}`)).toEqual(['invalid-file:personalities/calm.json']);
    expect(found[0]!.message).toMatch(/personalities\/calm\.json/);
  });

  it('reports a broken agent file once, not its resolved file as an orphan', async () => {
    const config = await handEdited('agents/a1.json', '{ "id": "a1" }\n');
    const found = await config.detectInconsistencies();
    expect(found.map((f) => `${f.kind}:${f.file}`)).toEqual(['invalid-file:agents/a1.json']);
    expect((await config.reconcile()).remaining.map((f) => f.file)).toEqual(['agents/a1.json']);
  });

  it("a stale agent names the field of what moved on: the role's version when the role changed", async () => {
    const config = await handEdited('agents/.keep', '');
    const role = await config.services.store.get('roles', 'reviewer');
    await config.services.store.put('roles', { ...role!, description: 'changed behind its agents' });
    const [found] = await config.detectInconsistencies();
    expect(found?.kind).toBe('stale-agent');
    expect(found?.message).toContain('role "reviewer" changed (composed against r1, now r2)');
    // As a workflow's check reports it: the field is the role's, not the personality's.
    const issues = await checkScope(config.services, { touched: ['agents/a1'] }, 'full');
    expect(issues.map((i) => i.path)).toEqual(['roleVersion']);
  });

  it('reports a file the store ignores, such as YAML dropped into a kind folder', async () => {
    const config = await handEdited('personalities/warm.yaml', 'name: Warm\n');
    const found = await config.detectInconsistencies();
    expect(found.map((f) => `${f.kind}:${f.file}`)).toEqual(['stray-file:personalities/warm.yaml']);
    expect(found[0]!.message).toBe(
      'personalities/warm.yaml: ignored: not an <id>.json file (bring YAML in with `troupe import`)',
    );
    // A warning in reconcile too, as in validate: not a problem a person must fix.
    const r = await config.reconcile();
    expect(r.remaining).toEqual([]);
    expect(r.warnings.map((w) => w.file)).toEqual(['personalities/warm.yaml']);
  });

  it('says why a name like <id>.json is not read: the id rule it breaks', async () => {
    const config = await handEdited('agents/con.json', '{}\n');
    const [found] = await config.detectInconsistencies();
    expect(found?.message).toBe(
      'agents/con.json: ignored: the name is not <id>.json with a valid id (id "con": is a name Windows reserves for a device (con, prn, aux, nul, com1–9, lpt1–9): choose another id)',
    );
  });
});
