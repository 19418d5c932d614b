/**
 * Rows for the policy index tests, written straight into the tables of migration 1 (the command
 * layer is not used here), with the index hooks called the way the apply code calls them: inside
 * the transaction, after writing a row, and around deleting one.
 */
import { ModelDatabase } from '../../../core/model/database.js';
import type { Migration } from '../../../core/model/migrations/index.js';
import {
  PolicyIndex,
  type IndexedEntityType,
  type PolicyKind,
  type ServicePolicyType,
} from '../../../core/model/policy/index.js';
import type { Semantic } from '../../../core/model/roles.js';

const NOW = '2024-01-01T00:00:00.000Z';

const ENTITY_TABLES: Record<IndexedEntityType, string> = {
  identity: 'identities',
  service: 'services',
  router: 'routers',
};

const POLICY_TABLES: Record<PolicyKind, string> = {
  service: 'service_policies',
  edgeRouter: 'edge_router_policies',
  serviceEdgeRouter: 'service_edge_router_policies',
};

export interface ServicePolicyFields {
  readonly type?: ServicePolicyType;
  readonly semantic?: Semantic;
  readonly identityRoles?: readonly string[];
  readonly serviceRoles?: readonly string[];
}

export interface EdgeRouterPolicyFields {
  readonly semantic?: Semantic;
  readonly identityRoles?: readonly string[];
  readonly routerRoles?: readonly string[];
}

export interface ServiceEdgeRouterPolicyFields {
  readonly semantic?: Semantic;
  readonly serviceRoles?: readonly string[];
  readonly routerRoles?: readonly string[];
}

/** When a delete calls its hook relative to deleting the row: the index must not care. */
export type HookOrder = 'hookFirst' | 'rowFirst';

export class ModelFixture {
  readonly index: PolicyIndex;

  private constructor(readonly db: ModelDatabase) {
    this.index = new PolicyIndex(db);
  }

  /** A fresh database, migrated to the newest schema or only up to `upTo`. */
  static async open(upTo?: readonly Migration[]): Promise<ModelFixture> {
    return new ModelFixture(await ModelDatabase.open(undefined, upTo));
  }

  close(): void {
    this.db.close();
  }

  /** Creates the identity, or replaces its role attributes. Its name is its id. */
  identity(id: string, attributes: readonly string[] = []): this {
    return this.entity('identity', id, attributes);
  }

  service(id: string, attributes: readonly string[] = []): this {
    return this.entity('service', id, attributes);
  }

  router(id: string, attributes: readonly string[] = [], options: { disabled?: boolean } = {}): this {
    this.entity('router', id, attributes);
    if (options.disabled !== undefined) this.setRouterDisabled(id, options.disabled);
    return this;
  }

  /** Disabling a router changes no policy: no hook. */
  setRouterDisabled(id: string, disabled: boolean): this {
    this.db.run('UPDATE routers SET disabled = ? WHERE id = ?', [disabled ? 1 : 0, id]);
    return this;
  }

  entity(type: IndexedEntityType, id: string, attributes: readonly string[]): this {
    this.db.transaction(() => {
      this.db.run(
        `INSERT INTO ${ENTITY_TABLES[type]} (id, name, ${type === 'identity' ? 'type, ' : ''}role_attributes, created_at, updated_at)
         VALUES (?, ?, ${type === 'identity' ? "'Default', " : ''}?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET role_attributes = excluded.role_attributes, updated_at = excluded.updated_at,
           revision = revision + 1`,
        [id, id, JSON.stringify(attributes), NOW, NOW],
      );
      this.db.run('DELETE FROM entity_attributes WHERE entity_type = ? AND entity_id = ?', [type, id]);
      for (const attribute of new Set(attributes)) {
        this.db.run('INSERT INTO entity_attributes (entity_type, entity_id, attribute) VALUES (?, ?, ?)', [
          type,
          id,
          attribute,
        ]);
      }
      this.index.entityChanged(type, id);
    });
    return this;
  }

  deleteEntity(type: IndexedEntityType, id: string, order: HookOrder = 'hookFirst'): this {
    this.db.transaction(() => {
      if (order === 'hookFirst') this.index.entityDeleted(type, id);
      this.db.run(`DELETE FROM ${ENTITY_TABLES[type]} WHERE id = ?`, [id]);
      this.db.run('DELETE FROM entity_attributes WHERE entity_type = ? AND entity_id = ?', [type, id]);
      if (order === 'rowFirst') this.index.entityDeleted(type, id);
    });
    return this;
  }

  /** Creates or replaces a service policy. Its name is its id. */
  servicePolicy(id: string, fields: ServicePolicyFields = {}): this {
    this.db.transaction(() => {
      this.db.run(
        `INSERT INTO service_policies (id, name, type, semantic, identity_roles, service_roles, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET type = excluded.type, semantic = excluded.semantic,
           identity_roles = excluded.identity_roles, service_roles = excluded.service_roles`,
        [
          id,
          id,
          fields.type ?? 'Dial',
          fields.semantic ?? 'AllOf',
          JSON.stringify(fields.identityRoles ?? []),
          JSON.stringify(fields.serviceRoles ?? []),
          NOW,
          NOW,
        ],
      );
      this.index.policyChanged('service', id);
    });
    return this;
  }

  edgeRouterPolicy(id: string, fields: EdgeRouterPolicyFields = {}): this {
    this.db.transaction(() => {
      this.db.run(
        `INSERT INTO edge_router_policies (id, name, semantic, identity_roles, router_roles, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET semantic = excluded.semantic,
           identity_roles = excluded.identity_roles, router_roles = excluded.router_roles`,
        [
          id,
          id,
          fields.semantic ?? 'AllOf',
          JSON.stringify(fields.identityRoles ?? []),
          JSON.stringify(fields.routerRoles ?? []),
          NOW,
          NOW,
        ],
      );
      this.index.policyChanged('edgeRouter', id);
    });
    return this;
  }

  serviceEdgeRouterPolicy(id: string, fields: ServiceEdgeRouterPolicyFields = {}): this {
    this.db.transaction(() => {
      this.db.run(
        `INSERT INTO service_edge_router_policies (id, name, semantic, service_roles, router_roles, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET semantic = excluded.semantic,
           service_roles = excluded.service_roles, router_roles = excluded.router_roles`,
        [
          id,
          id,
          fields.semantic ?? 'AllOf',
          JSON.stringify(fields.serviceRoles ?? []),
          JSON.stringify(fields.routerRoles ?? []),
          NOW,
          NOW,
        ],
      );
      this.index.policyChanged('serviceEdgeRouter', id);
    });
    return this;
  }

  deletePolicy(kind: PolicyKind, id: string, order: HookOrder = 'hookFirst'): this {
    this.db.transaction(() => {
      if (order === 'hookFirst') this.index.policyDeleted(kind, id);
      this.db.run(`DELETE FROM ${POLICY_TABLES[kind]} WHERE id = ?`, [id]);
      if (order === 'rowFirst') this.index.policyDeleted(kind, id);
    });
    return this;
  }

  /**
   * Everything a Dial needs besides a service policy: router r1, and an edge router policy and a
   * service edge router policy giving every identity and every service every router.
   */
  openRouting(routerId = 'r1'): this {
    return this.router(routerId)
      .edgeRouterPolicy('erp-all', { identityRoles: ['#all'], routerRoles: ['#all'] })
      .serviceEdgeRouterPolicy('serp-all', { serviceRoles: ['#all'], routerRoles: ['#all'] });
  }
}
