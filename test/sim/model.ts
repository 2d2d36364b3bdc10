import type { ConflictStrategy } from '../../src/configuration/conflict.js';

/**
 * A simple model of a troupe store for the simulation: which personalities, roles and agents
 * exist and the fields the operations set. An acknowledged operation moves the model by what
 * it promises; a rejected one must leave it as it was. `undefined` in a field means "any value"
 * (a merge whose outcome the model does not predict).
 */
export interface Model {
  personalities: Map<string, { openness: number; humor: number | undefined }>;
  roles: Map<string, { prompt: string }>;
  agents: Map<string, { p: string; r: string }>;
}

export type Op =
  | { t: 'createP'; id: string; openness: number }
  | {
      t: 'updateP';
      id: string;
      humor: number;
      strategy: ConflictStrategy;
      /** The revision the caller says it read: the one stored when it starts, an older one, or none. */
      expected: 'current' | 'stale' | 'none';
    }
  | { t: 'deleteP'; id: string; mode: 'block' | 'cascade' | 'reassign'; to: string }
  | { t: 'updateR'; id: string; prompt: string }
  | { t: 'createA'; id: string; p: string; r: string }
  | { t: 'deleteA'; id: string }
  | {
      t: 'bundle';
      personalities: Array<{ id: string; openness: number }>;
      agents: Array<{ id: string; p: string; r: string }>;
    }
  | { t: 'reconcile' };

export const P_IDS = ['p0', 'p1', 'p2'];
export const R_IDS = ['r0', 'r1'];
export const A_IDS = ['a0', 'a1', 'a2', 'a3'];

/** What the simulation starts from: p0, p1, roles r0 and r1, agents a0 (p0, r0) and a1 (p1, r0). */
export function initialModel(): Model {
  return {
    personalities: new Map([
      ['p0', { openness: 50, humor: 50 }],
      ['p1', { openness: 60, humor: 50 }],
    ]),
    roles: new Map([
      ['r0', { prompt: 'You review code.' }],
      ['r1', { prompt: 'You write tests.' }],
    ]),
    agents: new Map([
      ['a0', { p: 'p0', r: 'r0' }],
      ['a1', { p: 'p1', r: 'r0' }],
    ]),
  };
}

export const cloneModel = (m: Model): Model => ({
  personalities: new Map([...m.personalities].map(([k, v]) => [k, { ...v }])),
  roles: new Map([...m.roles].map(([k, v]) => [k, { ...v }])),
  agents: new Map([...m.agents].map(([k, v]) => [k, { ...v }])),
});

/**
 * The model after `op` was acknowledged, or a reason it cannot have been (a precondition the
 * operation must enforce). `stale` says the caller's revision was behind the stored one.
 */
export function applyOp(m: Model, op: Op, stale: boolean): Model | string {
  const n = cloneModel(m);
  switch (op.t) {
    case 'createP':
      if (n.personalities.has(op.id)) return `personality ${op.id} already exists`;
      n.personalities.set(op.id, { openness: op.openness, humor: undefined });
      return n;
    case 'updateP': {
      const p = n.personalities.get(op.id);
      if (!p) return `personality ${op.id} does not exist`;
      if (stale && op.strategy === 'reject')
        return `personality ${op.id} moved on: a stale update is rejected`;
      // A merge against a newer revision may keep either side's value.
      p.humor = stale ? undefined : op.humor;
      return n;
    }
    case 'deleteP': {
      if (!n.personalities.has(op.id)) return `personality ${op.id} does not exist`;
      const users = [...n.agents].filter(([, a]) => a.p === op.id);
      if (users.length && op.mode === 'block') return `personality ${op.id} is used by agents`;
      if (users.length && op.mode === 'reassign') {
        if (op.to === op.id || !n.personalities.has(op.to)) return `cannot reassign to ${op.to}`;
        for (const [, a] of users) a.p = op.to;
      }
      if (op.mode === 'cascade') for (const [id] of users) n.agents.delete(id);
      n.personalities.delete(op.id);
      return n;
    }
    case 'updateR': {
      const r = n.roles.get(op.id);
      if (!r) return `role ${op.id} does not exist`;
      r.prompt = op.prompt;
      return n;
    }
    case 'createA':
      if (n.agents.has(op.id)) return `agent ${op.id} already exists`;
      if (!n.personalities.has(op.p) || !n.roles.has(op.r))
        return `agent ${op.id} references what is missing`;
      n.agents.set(op.id, { p: op.p, r: op.r });
      return n;
    case 'deleteA':
      if (!n.agents.delete(op.id)) return `agent ${op.id} does not exist`;
      return n;
    case 'bundle':
      // A bundle's entity replaces the stored one whole: fields it does not give are gone.
      for (const p of op.personalities) {
        n.personalities.set(p.id, { openness: p.openness, humor: undefined });
      }
      for (const a of op.agents) {
        if (!n.personalities.has(a.p) || !n.roles.has(a.r))
          return `bundle agent ${a.id} references what is missing`;
        n.agents.set(a.id, { p: a.p, r: a.r });
      }
      return n;
    case 'reconcile':
      return n;
  }
}

/** Whether a store (projected as a model) is what the model says, field by field. */
export function matches(store: Model, model: Model): string | undefined {
  const same = <T extends object>(what: string, a: Map<string, T>, b: Map<string, T>) => {
    const ids = [...new Set([...a.keys(), ...b.keys()])].sort();
    for (const id of ids) {
      const x = a.get(id) as Record<string, unknown> | undefined;
      const y = b.get(id) as Record<string, unknown> | undefined;
      if (!x || !y)
        return `${what} ${id}: ${x ? 'stored but not in the model' : 'in the model but not stored'}`;
      for (const [k, v] of Object.entries(y))
        if (v !== undefined && x[k] !== v)
          return `${what} ${id}.${k}: stored ${String(x[k])}, model ${String(v)}`;
    }
    return undefined;
  };
  return (
    same('personality', store.personalities, model.personalities) ??
    same('role', store.roles, model.roles) ??
    same('agent', store.agents, model.agents)
  );
}
