/**
 * Properties of apply over random command sequences (fast-check): two fresh databases given the
 * same commands end identical with a policy index equal to its recomputation, and a snapshot
 * restores to the same contents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, type ModelCommand, type SingleCommand } from '../../../core/model/commands.js';
import type { Collection } from '../../../core/model/entities.js';
import { PolicyIndex } from '../../../core/model/policy/index.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';
import { MODEL_TABLES, modelContents } from '../../support/model-tables.js';

const AT = '2026-11-26T00:00:00.000Z';
const ids = ['a', 'b', 'c'];
const attributes = fc.array(fc.constantFrom('staff', 'eu', 'web', '#bad'), { maxLength: 3 });
const roles = fc.array(fc.constantFrom('#all', '#staff', '#eu', '#web', '@a', '@b', 'bad'), { maxLength: 3 });

const entityCollections: Collection[] = ['identities', 'services', 'routers'];
const policyCollections: Collection[] = [
  'service-policies',
  'edge-router-policies',
  'service-edge-router-policies',
];

const createEntity = fc
  .record({
    collection: fc.constantFrom(...entityCollections),
    id: fc.constantFrom(...ids),
    name: fc.constantFrom('x', 'y', 'z'),
    attrs: attributes,
  })
  .map(({ collection, id, name, attrs }): SingleCommand => ({
    op: 'create',
    collection,
    id,
    at: AT,
    data: { name, roleAttributes: attrs },
  }));

const createPolicy = fc
  .record({
    collection: fc.constantFrom(...policyCollections),
    id: fc.constantFrom('p1', 'p2'),
    r1: roles,
    r2: roles,
    anyOf: fc.boolean(),
  })
  .map(({ collection, id, r1, r2, anyOf }): SingleCommand => {
    const semantic = anyOf ? 'AnyOf' : 'AllOf';
    const data =
      collection === 'service-policies'
        ? { name: id, type: 'Dial', semantic, identityRoles: r1, serviceRoles: r2 }
        : collection === 'edge-router-policies'
          ? { name: id, semantic, identityRoles: r1, routerRoles: r2 }
          : { name: id, semantic, serviceRoles: r1, routerRoles: r2 };
    return { op: 'create', collection, id, at: AT, data };
  });

const patchEntity = fc
  .record({
    collection: fc.constantFrom(...entityCollections),
    id: fc.constantFrom(...ids),
    attrs: attributes,
  })
  .map(({ collection, id, attrs }): SingleCommand => ({
    op: 'patch',
    collection,
    id,
    at: AT,
    data: { roleAttributes: attrs },
  }));

const remove = fc
  .record({
    collection: fc.constantFrom(...entityCollections, ...policyCollections),
    id: fc.constantFrom(...ids, 'p1', 'p2'),
  })
  .map(({ collection, id }): SingleCommand => ({ op: 'delete', collection, id }));

const single = fc.oneof(createEntity, createPolicy, patchEntity, remove);
const command: fc.Arbitrary<ModelCommand> = fc.oneof(
  { weight: 5, arbitrary: single },
  {
    weight: 1,
    arbitrary: fc
      .array(single, { minLength: 1, maxLength: 4 })
      .map((commands) => ({ op: 'batch' as const, commands })),
  },
);

function contents(sm: ModelStateMachine): Record<string, unknown> {
  return modelContents(sm.model, [...MODEL_TABLES, 'meta']);
}

function applyAll(sm: ModelStateMachine, commands: readonly ModelCommand[]): unknown[] {
  return sm.apply(
    commands.map((c, i) => ({ index: i + 1, term: 1, data: encodeCommand(c) })),
    commands.length,
  );
}

describe('model apply properties', () => {
  it('two fresh databases given the same commands end identical, with identical results', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 30 }), async (commands) => {
        const a = await ModelStateMachine.create();
        const b = await ModelStateMachine.create();
        expect(applyAll(a, commands)).toEqual(applyAll(b, commands));
        expect(contents(a)).toEqual(contents(b));
        // The policy index that apply kept up to date equals one computed from scratch.
        expect(new PolicyIndex(a.model).checkIntegrity()).toMatchObject({ ok: true });
      }),
      { numRuns: 60 },
    );
  });

  it('a snapshot restores to the same contents', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 30 }), async (commands) => {
        const a = await ModelStateMachine.create();
        applyAll(a, commands);
        const b = await ModelStateMachine.create();
        b.restore(a.snapshot());
        expect(contents(b)).toEqual(contents(a));
      }),
      { numRuns: 40 },
    );
  });
});
