/**
 * Deterministic apply of model commands. A committed batch of Raft entries runs in one SQL
 * transaction together with the applied index; each command runs in a savepoint, so a refused
 * command leaves no trace and yields the same error result on every node. Nothing here reads a
 * clock or a random source: ids, timestamps and hashes come in the command.
 */
import type { ValidateFunction } from 'ajv';
import type { SqlValue } from 'sql.js';
import { compileConfigSchema, configDataErrors } from './config-schemas.js';
import type { ModelDatabase } from './database.js';
import { getEntity, type EntityRow } from './queries.js';
import { collections, spec, type Collection, type FieldSpec } from './entities.js';
import {
  validateCreate,
  validatePatch,
  type CommandEnvelope,
  type EntityData,
  type ModelCommand,
  type SingleCommand,
} from './commands.js';
import { errorResult, ModelError, type ModelErrorResult } from './errors.js';
import { isAnotherRequest, rememberedWrite, rememberResult } from './idempotency.js';
import { applyInvitation, type AppliedInvitation } from './invitations.js';
import { retireController } from './retired-controllers.js';
import { finishRotation, installIntermediate, recordControllerCertificate } from './ca-trust.js';
import { deleteSetting, writeSetting } from './settings.js';
import { renewCertificate, revokeRouterCertificates } from './router-certificates.js';
import { checkRoleAttribute, parseRoles, type RoleEntityType } from './roles.js';
import { INDEXED_ENTITY, POLICY_KIND, type IndexedEntityType, type PolicyKind } from './policy/kinds.js';

/** What apply tells the policy index, inside its transaction (core/model/policy/index.ts). */
export interface PolicyIndexHooks {
  policyChanged(kind: PolicyKind, id: string): void;
  policyDeleted(kind: PolicyKind, id: string): void;
  entityChanged(type: IndexedEntityType, id: string): void;
  entityDeleted(type: IndexedEntityType, id: string): void;
}

export interface AppliedEntity {
  readonly ok: true;
  readonly op: 'create' | 'patch' | 'update' | 'delete';
  readonly collection: Collection;
  readonly id: string;
  /** The entity's revision after the command (0 once deleted). */
  readonly revision: number;
  /**
   * The entity exactly as this command left it, read inside the apply transaction (absent after a
   * delete). A write's answer is built from this, never from a read after apply: by then a later
   * entry of the same batch may have changed the entity again.
   */
  readonly entity?: EntityRow;
}

export interface AppliedSetting {
  readonly ok: true;
  readonly op: 'setSetting' | 'deleteSetting';
  readonly key: string;
  /** False when `onlyIfAbsent` kept an existing value, or there was nothing to delete. */
  readonly written: boolean;
}

export interface AppliedRenewal {
  readonly ok: true;
  readonly op: 'renewRouterCertificate';
  readonly routerId: string;
  readonly serial: string;
}

export interface AppliedRetirement {
  readonly ok: true;
  readonly op: 'retireController';
  readonly nodeId: string;
  /** False when the node was retired already. */
  readonly written: boolean;
}

/** The cluster CA's commands (core/model/ca-trust.ts). */
export type AppliedCa =
  | {
      readonly ok: true;
      readonly op: 'installIntermediate';
      /** The new intermediate's fingerprint. */
      readonly fingerprint: string;
    }
  | {
      readonly ok: true;
      readonly op: 'finishCaRotation';
      /** The fingerprints of the intermediates retired (none: there was nothing to retire). */
      readonly retired: readonly string[];
      /** The new root's fingerprint, when the rotation introduced one: everyone's root now. */
      readonly root?: string;
    }
  | {
      readonly ok: true;
      readonly op: 'recordControllerCertificate';
      readonly nodeId: string;
      readonly serial: string;
      /** False when the record said so already. */
      readonly written: boolean;
    };

export type SingleResult =
  AppliedEntity | AppliedSetting | AppliedRetirement | AppliedRenewal | AppliedCa | AppliedInvitation;

export type CommandResult =
  SingleResult | { readonly ok: true; readonly op: 'batch'; readonly results: readonly SingleResult[] };

/** What apply answers for one entry: a result, or the refusal every node reaches identically. */
export type EntryResult = (CommandResult | ModelErrorResult) & {
  /** Present when an idempotency key had already been used: this is the first write's result. */
  readonly replayed?: true;
};

/** Which collection an `@id` in each role field must name. */
const ROLE_TARGET: Readonly<Record<string, Collection>> = {
  identityRoles: 'identities',
  serviceRoles: 'services',
  routerRoles: 'routers',
  postureCheckRoles: 'posture-checks',
};

/** References that forbid deleting their target: [table, column, what it is]. */
const REFERENCED_BY: Partial<Record<Collection, readonly (readonly [string, string, string])[]>> = {
  services: [['terminators', 'service_id', 'terminator']],
  routers: [['terminators', 'router_id', 'terminator']],
  identities: [['terminators', 'identity_id', 'terminator']],
  'config-types': [['configs', 'config_type_id', 'config']],
};

/** What a command is about, for a batch's error message. */
function subjectOf(c: SingleCommand): string {
  // Never a field of the command itself that may be secret (installIntermediate's key).
  if (c.op === 'installIntermediate' || c.op === 'finishCaRotation') return 'the cluster CA';
  if ('collection' in c) return c.collection;
  if (c.op === 'setSetting' || c.op === 'deleteSetting') return c.key;
  if ('routerId' in c) return c.routerId;
  return 'nodeId' in c ? c.nodeId : c.id;
}

export class ModelApplier {
  /** Compiled validators by config type and revision: a pure function of the schema, so a cache. */
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    private readonly model: ModelDatabase,
    private readonly index: PolicyIndexHooks | undefined,
  ) {}

  /**
   * Applies one committed entry inside the caller's transaction. Never throws a ModelError: a
   * refusal is a result. A keyed write whose key is remembered returns the first result instead.
   */
  applyEntry(envelope: CommandEnvelope): EntryResult {
    const key = envelope.idempotency;
    if (key) {
      const first = rememberedWrite(this.model, key);
      if (first && isAnotherRequest(first, key)) {
        // Refused and not remembered: the key still answers its first request.
        return errorResult(
          new ModelError(
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key was used for another request (method, path or body); use a new key for a new request',
          ),
        );
      }
      if (first) return { ...(first.result as EntryResult), replayed: true };
    }
    let result: EntryResult;
    try {
      result = this.apply(envelope.command);
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      result = errorResult(err);
    }
    if (key) rememberResult(this.model, key, result);
    return result;
  }

  /** Applies one command inside the caller's transaction; throws ModelError when refused. */
  apply(command: ModelCommand): CommandResult {
    if (command.op !== 'batch') return this.model.savepoint(() => this.applySingle(command));
    // All or nothing: the first refusal rolls back the whole batch.
    return this.model.savepoint(() => {
      const results = command.commands.map((c, i) => {
        try {
          return this.applySingle(c);
        } catch (err) {
          if (err instanceof ModelError) {
            throw new ModelError(
              err.code,
              `operation ${i} (${c.op} ${subjectOf(c)}): ${err.message}`,
              err.errors,
            );
          }
          throw err;
        }
      });
      return { ok: true as const, op: 'batch' as const, results };
    });
  }

  private applySingle(c: SingleCommand): SingleResult {
    switch (c.op) {
      case 'setSetting':
        return {
          ok: true,
          op: 'setSetting',
          key: c.key,
          written: writeSetting(this.model, c.key, c.value, c.at, c.onlyIfAbsent ?? false),
        };
      case 'deleteSetting':
        return { ok: true, op: 'deleteSetting', key: c.key, written: deleteSetting(this.model, c.key) };
      case 'create':
        return this.create(c.collection, c.id, c.at, validateCreate(c.collection, c.data));
      case 'update':
      case 'patch': {
        const current = this.load(c.collection, c.id);
        if (c.ifRevision !== undefined && c.ifRevision !== current.revision) {
          throw new ModelError(
            'REVISION_MISMATCH',
            `${c.collection} ${c.id} is at revision ${current.revision}, not ${c.ifRevision}`,
          );
        }
        const fields =
          c.op === 'update'
            ? validateCreate(c.collection, c.data)
            : { ...current.fields, ...validatePatch(c.collection, c.data) };
        // A new password ends the admin's sessions: tokens issued before it are refused.
        if (c.collection === 'admins' && fields.passwordHash !== current.fields.passwordHash) {
          this.raiseAuthEpoch(c.id);
        }
        // A disabled router's certificate is revoked: it comes back by enrolling again.
        if (c.collection === 'routers' && fields.disabled === true)
          revokeRouterCertificates(this.model, c.id);
        return { ...this.write(c.collection, c.id, c.at, fields, current.revision), op: c.op };
      }
      case 'retireController':
        return {
          ok: true,
          op: 'retireController',
          nodeId: c.nodeId,
          written: retireController(this.model, c.nodeId, c.at),
        };
      case 'installIntermediate':
        return {
          ok: true,
          op: c.op,
          fingerprint: installIntermediate(this.model, c.certificate, c.key, c.at, c.root),
        };
      case 'finishCaRotation':
        return { ok: true, op: c.op, ...finishRotation(this.model, c.issuer, c.at) };
      case 'recordControllerCertificate':
        return {
          ok: true,
          op: c.op,
          nodeId: c.nodeId,
          serial: c.certificate.serial,
          written: recordControllerCertificate(this.model, c.nodeId, c.certificate, c.at),
        };
      case 'renewRouterCertificate':
        renewCertificate(this.model, c.routerId, c.previousSerial, c.certificate, c.at);
        return { ok: true, op: c.op, routerId: c.routerId, serial: c.certificate.serial };
      case 'endSessions': {
        const current = this.load('admins', c.id);
        this.raiseAuthEpoch(c.id);
        return { ...this.write('admins', c.id, c.at, current.fields, current.revision), op: 'patch' };
      }
      case 'delete':
        return this.remove(c.collection, c.id, c.ifRevision);
      case 'createInvitation':
      case 'redeemInvitation':
      case 'revokeInvitation':
        return applyInvitation(this.model, c);
    }
  }

  private raiseAuthEpoch(adminId: string): void {
    this.model.run('UPDATE admins SET auth_epoch = auth_epoch + 1 WHERE id = ?', [adminId]);
  }

  private create(c: Collection, id: string, at: string, fields: EntityData): AppliedEntity {
    const { table } = spec(c);
    if (this.model.value(`SELECT 1 FROM ${table} WHERE id = ?`, [id]) !== undefined) {
      throw new ModelError('ID_TAKEN', `${c} ${id} already exists`);
    }
    return this.write(c, id, at, fields, 0);
  }

  /** Inserts (revision 0) or replaces an entity after checking every rule. */
  private write(c: Collection, id: string, at: string, fields: EntityData, revision: number): AppliedEntity {
    const s = spec(c);
    this.checkRules(c, id, fields);
    const columns: string[] = [];
    const values: SqlValue[] = [];
    for (const [field, f] of Object.entries(s.fields)) {
      columns.push(f.column);
      values.push(toColumn(f, fields[field]));
    }
    if (revision === 0) {
      this.model.run(
        `INSERT INTO ${s.table} (id, ${columns.join(', ')}, created_at, updated_at, revision) VALUES (?, ${columns.map(() => '?').join(', ')}, ?, ?, 1)`,
        [id, ...values, at, at],
      );
    } else {
      this.model.run(
        `UPDATE ${s.table} SET ${columns.map((col) => `${col} = ?`).join(', ')}, updated_at = ?, revision = revision + 1 WHERE id = ?`,
        [...values, at, id],
      );
    }
    if (s.attributes)
      this.syncAttributes(s.attributes, id, (fields.roleAttributes as string[] | undefined) ?? []);
    this.notifyChanged(c, id);
    const entity = getEntity(this.model, c, id);
    if (!entity) throw new Error(`${c} ${id} vanished inside its own write`);
    return {
      ok: true,
      op: revision === 0 ? 'create' : 'patch',
      collection: c,
      id,
      revision: revision + 1,
      entity,
    };
  }

  private remove(c: Collection, id: string, ifRevision: number | undefined): AppliedEntity {
    const s = spec(c);
    const current = this.load(c, id);
    if (ifRevision !== undefined && ifRevision !== current.revision) {
      throw new ModelError(
        'REVISION_MISMATCH',
        `${c} ${id} is at revision ${current.revision}, not ${ifRevision}`,
      );
    }
    for (const [table, column, what] of REFERENCED_BY[c] ?? []) {
      if (this.model.value(`SELECT 1 FROM ${table} WHERE ${column} = ? LIMIT 1`, [id]) !== undefined) {
        throw new ModelError('IN_USE', `${c} ${id} is still used by a ${what}`);
      }
    }
    this.checkNotNamedByRoles(c, id);
    // Checked here, not only by the API, so that two concurrent deletes cannot both pass.
    if (c === 'admins' && current.fields.role === 'admin' && !this.otherFullAdmin(id)) {
      throw new ModelError(
        'IN_USE',
        'the last admin with full rights cannot be deleted: no one could manage the cluster',
      );
    }
    if (
      c === 'configs' &&
      this.model.value(
        `SELECT 1 FROM services, json_each(services.configs) WHERE json_each.value = ? LIMIT 1`,
        [id],
      ) !== undefined
    ) {
      throw new ModelError('IN_USE', `config ${id} is still used by a service`);
    }
    const policyKind = POLICY_KIND[c];
    if (policyKind) this.index?.policyDeleted(policyKind, id);
    const indexed = s.attributes ? INDEXED_ENTITY[s.attributes] : undefined;
    if (indexed) this.index?.entityDeleted(indexed, id);
    if (s.attributes)
      this.model.run('DELETE FROM entity_attributes WHERE entity_type = ? AND entity_id = ?', [
        s.attributes,
        id,
      ]);
    this.model.run(`DELETE FROM ${s.table} WHERE id = ?`, [id]);
    return { ok: true, op: 'delete', collection: c, id, revision: 0 };
  }

  private load(c: Collection, id: string): { fields: EntityData; revision: number } {
    const s = spec(c);
    const row = this.model.all(`SELECT * FROM ${s.table} WHERE id = ?`, [id])[0];
    if (!row) throw new ModelError('NOT_FOUND', `${c} ${id} does not exist`);
    const fields: EntityData = {};
    for (const [field, f] of Object.entries(s.fields)) fields[field] = fromColumn(f, row[f.column] ?? null);
    return { fields, revision: Number(row.revision) };
  }

  /** Whether an admin other than `id` has full rights. */
  private otherFullAdmin(id: string): boolean {
    return this.model.exists("SELECT 1 FROM admins WHERE role = 'admin' AND id != ? LIMIT 1", [id]);
  }

  /** The rules zod cannot see: uniqueness, references, role syntax, config data against its type. */
  private checkRules(c: Collection, id: string, fields: EntityData): void {
    const s = spec(c);
    if (c === 'admins' && fields.role !== 'admin' && !this.otherFullAdmin(id)) {
      const why = 'the last admin with full rights cannot be read-only: give another admin full rights first';
      throw new ModelError('IN_USE', why, [{ field: 'role', message: why }]);
    }
    if (s.unique) {
      const field = Object.entries(s.fields).find(([, f]) => f.column === s.unique)?.[0] ?? s.unique;
      const taken = this.model.value(`SELECT id FROM ${s.table} WHERE ${s.unique} = ? AND id != ?`, [
        fields[field] as string,
        id,
      ]);
      if (taken !== undefined) {
        throw new ModelError('NAME_TAKEN', `${c} ${field} "${String(fields[field])}" is taken`, [
          { field, message: 'already in use' },
        ]);
      }
    }
    for (const [field, f] of Object.entries(s.fields)) {
      const value = fields[field];
      if (f.kind === 'ref' && value !== null && value !== undefined)
        this.checkExists(f.ref as Collection, value as string, field);
      if (f.kind === 'refs')
        for (const item of value as string[]) this.checkExists(f.ref as Collection, item, field);
      if (f.kind === 'attributes') {
        for (const attribute of value as string[]) {
          const why = checkRoleAttribute(attribute);
          if (why) throw new ModelError('INVALID', why, [{ field, message: why }]);
        }
      }
      if (f.kind === 'roles') {
        const parsed = parseRoles(value as string[]);
        if (typeof parsed === 'string') throw new ModelError('INVALID', parsed, [{ field, message: parsed }]);
        const target = ROLE_TARGET[field];
        for (const ref of parsed.ids) if (target) this.checkExists(target, ref, field);
      }
    }
    if (c === 'configs') this.checkConfigData(fields.configTypeId as string, fields.data);
    if (c === 'config-types') this.checkConfigSchema(fields.schema);
  }

  private checkExists(c: Collection, id: string, field: string): void {
    if (this.model.value(`SELECT 1 FROM ${spec(c).table} WHERE id = ?`, [id]) === undefined) {
      throw new ModelError('UNKNOWN_REFERENCE', `${field} names ${c} ${id}, which does not exist`, [
        { field, message: `no ${c} ${id}` },
      ]);
    }
  }

  /** An entity named by `@id` in a policy cannot be deleted until the policy stops naming it. */
  private checkNotNamedByRoles(c: Collection, id: string): void {
    for (const [policies, policySpec] of Object.entries(collections)) {
      for (const [field, f] of Object.entries(policySpec.fields as Record<string, FieldSpec>)) {
        if (f.kind !== 'roles' || ROLE_TARGET[field] !== c) continue;
        const named = this.model.value(
          `SELECT name FROM ${policySpec.table}, json_each(${policySpec.table}.${f.column}) WHERE json_each.value = ? LIMIT 1`,
          [`@${id}`],
        );
        if (named !== undefined)
          throw new ModelError('IN_USE', `${c} ${id} is named in ${policies} "${String(named)}"`);
      }
    }
  }

  /** A config type's schema must compile, within the bounds of config-schemas.ts. */
  private checkConfigSchema(schema: unknown): void {
    try {
      compileConfigSchema(schema, 'the config type');
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      throw new ModelError(err.code, err.message, [{ field: 'schema', message: err.message }]);
    }
  }

  private checkConfigData(configTypeId: string, data: unknown): void {
    const row = this.model.all('SELECT schema, revision FROM config_types WHERE id = ?', [configTypeId])[0];
    if (!row) return; // reported by the reference check
    const key = `${configTypeId}@${String(row.revision)}`;
    let validate = this.validators.get(key);
    if (!validate) {
      // Checked again here: a type stored before the bounds existed is refused, not run.
      validate = compileConfigSchema(JSON.parse(String(row.schema)), `config type ${configTypeId}`);
      this.validators.set(key, validate);
    }
    if (!validate(data)) {
      throw new ModelError('INVALID', 'config data does not match its type', configDataErrors(validate));
    }
  }

  private syncAttributes(type: RoleEntityType, id: string, attributes: readonly string[]): void {
    this.model.run('DELETE FROM entity_attributes WHERE entity_type = ? AND entity_id = ?', [type, id]);
    for (const attribute of new Set(attributes)) {
      this.model.run('INSERT INTO entity_attributes (entity_type, entity_id, attribute) VALUES (?, ?, ?)', [
        type,
        id,
        attribute,
      ]);
    }
  }

  private notifyChanged(c: Collection, id: string): void {
    if (!this.index) return;
    const policyKind = POLICY_KIND[c];
    if (policyKind) this.index.policyChanged(policyKind, id);
    else {
      const type = spec(c).attributes;
      const indexed = type ? INDEXED_ENTITY[type] : undefined;
      if (indexed) this.index.entityChanged(indexed, id);
    }
  }
}

function toColumn(f: FieldSpec, value: unknown): SqlValue {
  switch (f.kind) {
    case 'boolean':
      return value ? 1 : 0;
    case 'integer':
      return Number(value ?? 0);
    case 'json':
    case 'roles':
    case 'attributes':
    case 'refs':
      return JSON.stringify(value ?? (f.kind === 'json' ? {} : []));
    default:
      return (value ?? null) as SqlValue;
  }
}

export function fromColumn(f: FieldSpec, value: SqlValue): unknown {
  switch (f.kind) {
    case 'boolean':
      return value === 1;
    case 'integer':
      return Number(value);
    case 'json':
    case 'roles':
    case 'attributes':
    case 'refs':
      return JSON.parse(String(value)) as unknown;
    default:
      return value;
  }
}
