// Checks values against the schemas in docs/openapi.json (the subset of
// OpenAPI 3.0 schema keywords that file uses), so responses and the
// published contract cannot drift apart.
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './stack.mjs';
import path from 'node:path';

const spec = JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs/openapi.json'), 'utf8'));

function resolve(schema) {
  while (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    schema = spec.components.schemas[name];
    if (!schema) throw new Error(`unknown $ref ${name}`);
  }
  return schema;
}

function check(schema, value, where, errors) {
  schema = resolve(schema);
  if (value === null) {
    if (!schema.nullable) errors.push(`${where}: null is not allowed`);
    return;
  }
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((s) => {
      const e = [];
      check(s, value, where, e);
      return e.length === 0;
    });
    if (matching.length !== 1) errors.push(`${where}: matches ${matching.length} of its oneOf schemas, not 1`);
    return;
  }
  const type = schema.type;
  const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (type && !(type === actual || (type === 'number' && actual === 'integer'))) {
    errors.push(`${where}: expected ${type}, got ${actual}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${where}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value)) errors.push(`${where}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${where}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${where}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${where}: more than ${schema.maxItems} items`);
    value.forEach((v, i) => check(schema.items ?? {}, v, `${where}[${i}]`, errors));
  }
  if (actual === 'object') {
    for (const r of schema.required ?? []) if (!(r in value)) errors.push(`${where}: missing ${r}`);
    for (const [k, v] of Object.entries(value)) {
      const sub = schema.properties?.[k];
      if (sub) check(sub, v, `${where}.${k}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${where}: unexpected property ${k}`);
    }
  }
}

/** Throws with every mismatch when value does not satisfy components.schemas[name]. */
export function validate(name, value) {
  const errors = [];
  check({ $ref: `#/components/schemas/${name}` }, value, name, errors);
  if (errors.length) throw new Error(`response does not match docs/openapi.json:\n${errors.join('\n')}`);
}
