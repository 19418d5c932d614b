/** The static bound on validating one value against an admin-supplied JSON Schema. */
import { describe, expect, it } from 'vitest';
import { SCHEMA_WORK_BUDGET, schemaCostProblem } from '../../../core/model/schema-cost.js';

/** `levels` definitions, each an anyOf of two references to the next: 2^levels evaluations. */
function doubling(levels: number): object {
  const definitions: Record<string, object> = {};
  for (let i = 0; i < levels; i++) {
    definitions[`d${i}`] = {
      anyOf: [{ $ref: `#/definitions/d${i + 1}` }, { $ref: `#/definitions/d${i + 1}` }],
    };
  }
  definitions[`d${levels}`] = { type: 'string', minLength: 2 };
  return { $ref: '#/definitions/d0', definitions };
}

/** Shaped like OpenZiti's host.v1: definitions, oneOf/anyOf between them, patterns, enums. */
const HOST_V1_LIKE = {
  $id: 'http://edge.openziti.org/schemas/host.v1.config.json',
  type: 'object',
  definitions: {
    inhabitedSet: { type: 'array', minItems: 1, uniqueItems: true },
    portNumber: { type: 'integer', minimum: 0, maximum: 65535 },
    portRange: {
      type: 'object',
      properties: { low: { $ref: '#/definitions/portNumber' }, high: { $ref: '#/definitions/portNumber' } },
      required: ['low', 'high'],
    },
    protocolName: { type: 'string', enum: ['tcp', 'udp'] },
    hostAddress: { type: 'string', pattern: '^[a-z0-9.-]+$' },
    cidr: { type: 'string', pattern: '^[0-9./]+$' },
  },
  properties: {
    protocol: { $ref: '#/definitions/protocolName' },
    forwardProtocol: { type: 'boolean' },
    allowedProtocols: {
      allOf: [{ $ref: '#/definitions/inhabitedSet' }, { items: { $ref: '#/definitions/protocolName' } }],
    },
    address: { oneOf: [{ $ref: '#/definitions/hostAddress' }, { $ref: '#/definitions/cidr' }] },
    allowedAddresses: {
      allOf: [
        { $ref: '#/definitions/inhabitedSet' },
        { items: { anyOf: [{ $ref: '#/definitions/hostAddress' }, { $ref: '#/definitions/cidr' }] } },
      ],
    },
    port: { $ref: '#/definitions/portNumber' },
    allowedPortRanges: {
      allOf: [{ $ref: '#/definitions/inhabitedSet' }, { items: { $ref: '#/definitions/portRange' } }],
    },
  },
  additionalProperties: false,
};

describe('schemaCostProblem', () => {
  it('accepts real config types and recursion that descends into the value', () => {
    expect(schemaCostProblem(HOST_V1_LIKE)).toBeUndefined();
    expect(schemaCostProblem({ type: 'object', properties: { port: { type: 'integer' } } })).toBeUndefined();
    expect(schemaCostProblem(true)).toBeUndefined();
    // A tree: each level is one step down the value, so the cost per value stays flat.
    const tree = {
      $ref: '#/definitions/node',
      definitions: {
        node: {
          type: 'object',
          properties: { children: { type: 'array', items: { $ref: '#/definitions/node' } } },
        },
      },
    };
    expect(schemaCostProblem(tree)).toBeUndefined();
    expect(schemaCostProblem(doubling(8))).toBeUndefined();
  });

  it('refuses nesting that multiplies the work on one value past the budget', () => {
    expect(2 ** 13).toBeGreaterThan(SCHEMA_WORK_BUDGET);
    expect(schemaCostProblem(doubling(13))).toMatch(/could take \d+ schema steps, more than 4096/);
    // 2^60 paths: counted without overflow, and refused.
    expect(schemaCostProblem(doubling(60))).toMatch(/more than 4096/);
  });

  it('refuses recursion that multiplies as it descends', () => {
    // Two ways down at every level of a 32-deep value: 2^32 evaluations of the deepest member.
    const branching = {
      $ref: '#/definitions/n',
      definitions: {
        n: {
          anyOf: [
            { properties: { x: { $ref: '#/definitions/n' } } },
            { properties: { x: { $ref: '#/definitions/n' } } },
          ],
        },
      },
    };
    expect(schemaCostProblem(branching)).toMatch(/more than 4096/);
  });

  it('weighs large enums and required lists by their length', () => {
    const values = Array.from({ length: 3000 }, (_, i) => `v${i}`);
    expect(schemaCostProblem({ enum: values })).toBeUndefined();
    expect(schemaCostProblem({ allOf: [{ enum: values }, { enum: values }] })).toMatch(/more than 4096/);
  });

  it('refuses a reference cycle that never descends, and references it cannot follow', () => {
    expect(schemaCostProblem({ $ref: '#' })).toMatch(/never ends/);
    expect(
      schemaCostProblem({
        definitions: { a: { $ref: '#/definitions/b' }, b: { allOf: [{ $ref: '#/definitions/a' }] } },
        $ref: '#/definitions/a',
      }),
    ).toMatch(/never ends/);
    expect(schemaCostProblem({ $ref: 'https://example.test/other.json' })).toMatch(
      /not a reference into this schema/,
    );
    expect(schemaCostProblem({ $ref: '#/definitions/missing' })).toMatch(/not a reference into this schema/);
    expect(schemaCostProblem({ $dynamicRef: '#meta' })).toMatch(/not supported/);
  });
});
