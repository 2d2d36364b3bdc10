import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/role.js';
import { seeded } from './helpers.js';

describe('troupe role', () => {
  it('creates a custom role from a template, flags overriding it', async () => {
    const { t } = await seeded();
    const r = await t(
      'role',
      'create',
      '--from-template',
      'analyst',
      '--name',
      'Data Analyst',
      '--capability',
      'data-analysis',
      '--json',
    );
    expect(r.code).toBe(0);
    const role = r.json<Role>();
    expect(role).toMatchObject({
      id: 'data-analyst',
      name: 'Data Analyst',
      capabilities: ['data-analysis'],
      predefined: false,
    });
    expect(role.systemPrompt).toMatch(/You are an analyst/);
  });

  it('a template copy without a name is called "<template> (custom)"', async () => {
    const { t } = await seeded();
    const r = await t('role', 'create', '--from-template', 'critic');
    expect(r.stdout).toContain('Created role critic-custom (Critic (custom)) from critic');
  });

  it('lists predefined and custom roles, marking which is which', async () => {
    const { t } = await seeded();
    const r = await t('role', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+REVISION\s+KIND$/);
    expect(r.stdout).toMatch(/analyst\s+Analyst\s+-\s+predefined/);
    expect(r.stdout).toMatch(/reviewer\s+Reviewer\s+1\s+custom/);
    const roles = (await t('role', 'list', '--json')).json<Role[]>();
    expect(roles.find((x) => x.id === 'analyst')?.predefined).toBe(true);
    expect(roles.find((x) => x.id === 'reviewer')?.predefined).toBe(false);
  });

  it('shows predefined and custom roles', async () => {
    const { t } = await seeded();
    expect((await t('role', 'show', 'developer')).stdout).toMatch(
      /Developer \(developer\), predefined \(read-only\)/,
    );
    const r = await t('role', 'show', 'reviewer');
    expect(r.stdout).toContain('Reviewer (reviewer), revision 1');
    expect(r.stdout).toContain('Capabilities: code-review');
    expect(r.stdout).toContain('You review code carefully.');
    expect((await t('role', 'show', 'reviewer', '--json')).json()).toMatchObject({
      id: 'reviewer',
      revision: 1,
    });
  });

  it('updates a custom role and re-composes its agents', async () => {
    const { t } = await seeded();
    const r = await t('role', 'update', 'reviewer', '--system-prompt', 'Review code kindly.', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ role: { revision: 2 }, agents: ['ada', 'otto'], stale: [] });
    const resolved = (await t('agent', 'show', 'ada', '--resolved', '--json')).json<{
      systemPrompt: string;
    }>();
    expect(resolved.systemPrompt).toContain('Review code kindly.');
  });

  it('deletes a custom role with --cascade', async () => {
    const { t } = await seeded();
    const r = await t('role', 'delete', 'reviewer', '--cascade', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      deleted: 'reviewer',
      agentsDeleted: ['ada', 'otto'],
      agentsReassigned: [],
    });
  });

  it('--reassign moves agents to another role', async () => {
    const { t } = await seeded();
    const r = await t('role', 'delete', 'reviewer', '--reassign', 'developer');
    expect(r.code).toBe(0);
    const agents = (await t('agent', 'list', '--json')).json<Array<{ roleId: string }>>();
    expect(agents.map((a) => a.roleId)).toEqual(['developer', 'developer']);
  });
});
