import { notFound, TroupeError } from '../domain/errors.js';
import { type Role, RoleInput, Role as RoleSchema } from '../domain/role.js';
import { suggest } from '../domain/suggest.js';
import type { BatchOp, Store } from '../storage/store.js';
import { loadShipped } from './data.js';
import { EntityService, type Where } from './entity-service.js';

const LIBRARY_TIME = '2026-01-01T00:00:00.000Z';
let library: Map<string, Role> | undefined;

function predefinedRoles(): Map<string, Role> {
  library ??= new Map(
    loadShipped<RoleInput>('roles').map((r) => {
      const role = RoleSchema.parse({
        ...r,
        predefined: true,
        revision: 1,
        createdAt: LIBRARY_TIME,
        updatedAt: LIBRARY_TIME,
      });
      return [role.id, role];
    }),
  );
  return library;
}

const immutable = (id: string, action: string) =>
  new TroupeError(
    'IMMUTABLE_ROLE',
    `role "${id}" is predefined and cannot be ${action}; create a custom role from it (troupe: role create --from-template ${id}; HTTP: POST /api/roles?template=${id})`,
    { context: { kind: 'roles', id } },
  );

/**
 * Roles: an immutable library shipped as data, plus custom roles in the store. A predefined role
 * reads like any other but cannot be updated or deleted; a custom role can start from it.
 *
 * @example
 * ```ts
 * const roles = new RoleService(store);
 * roles.isPredefined('developer'); // true
 * const input = await roles.fromTemplateInput('developer', { id: 'go-developer', name: 'Go Developer' });
 * const goDeveloper = await roles.create(input);
 * ```
 */
export class RoleService extends EntityService<Role> {
  constructor(store: Store) {
    super(store, { kind: 'roles', label: 'role', input: RoleInput, stored: RoleSchema });
  }

  /** Whether the id is one of the shipped library's roles. */
  isPredefined(id: string): boolean {
    return predefinedRoles().has(id);
  }

  /** The shipped library's roles (copies). */
  predefined(): Role[] {
    return [...predefinedRoles().values()].map((r) => structuredClone(r));
  }

  /** A predefined or custom role by id; undefined if there is none. */
  override async get(id: string): Promise<Role | undefined> {
    const lib = predefinedRoles().get(id);
    return lib ? structuredClone(lib) : super.get(id);
  }

  /** The predefined roles and the custom ones, sorted by id. */
  override async readable(): Promise<{ entities: Role[]; refused: TroupeError[] }> {
    const { entities: custom, refused } = await super.readable();
    const entities = [...this.predefined(), ...custom.filter((r) => !this.isPredefined(r.id))].sort((a, b) =>
      a.id.localeCompare(b.id),
    );
    return { entities, refused };
  }

  override prepareCreate(input: unknown, where: Where = {}) {
    const r = super.prepareCreate(input, where);
    if (this.isPredefined(r.entity.id)) {
      throw new TroupeError(
        'ALREADY_EXISTS',
        `${where.file ? `${where.file}: ` : ''}role "${r.entity.id}" is a predefined role; choose another id`,
        {
          context: { kind: 'roles', id: r.entity.id },
          issues: [
            {
              path: 'id',
              message: 'is taken by a predefined role',
              ...(where.file ? { file: where.file } : {}),
            },
          ],
        },
      );
    }
    return r;
  }

  override prepareUpdate(
    current: Role,
    patch: unknown,
    opts: { expectedRevision?: number | undefined; file?: string } = {},
  ) {
    if (this.isPredefined(current.id)) throw immutable(current.id, 'updated');
    return super.prepareUpdate(current, patch, opts);
  }

  override prepareDelete(current: Role, expectedRevision?: number): BatchOp {
    if (this.isPredefined(current.id)) throw immutable(current.id, 'deleted');
    return super.prepareDelete(current, expectedRevision);
  }

  /** A custom role input built from a role (usually predefined) with overrides merged over it. */
  async fromTemplateInput(
    templateId: string,
    overrides: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const t = await this.get(templateId);
    if (!t) {
      throw notFound(
        'role',
        templateId,
        suggest(
          templateId,
          (await this.list()).map((r) => r.id),
        ),
      );
    }
    const { id: _id, predefined: _p, revision: _r, createdAt: _c, updatedAt: _u, commit: _k, ...body } = t;
    const merged: Record<string, unknown> = { ...body, ...overrides };
    if (overrides.name === undefined) merged.name = `${t.name} (custom)`;
    return merged;
  }

  override editable(e: Role): Record<string, unknown> {
    const { predefined: _p, ...rest } = super.editable(e);
    return rest;
  }
}
