/**
 * Tool parameters (JSON Schema) as node-llama-cpp's function-calling grammar takes them
 * (GbnfJsonSchema, a subset), and the model's arguments back into what the tool's schema accepts.
 *
 * The grammar forces the model through every listed property in order, so a property the tool
 * marks optional becomes "this or null" (the model may decline it) and a null it chose is removed
 * again before the call goes out. JSON Schema keywords the grammar has no rule for (pattern,
 * minimum, ...) are left out: they only narrow what the tool accepts, and the gateway checks the
 * arguments against the tool's own schema before running it anyway.
 */
import type { GbnfJsonSchema } from 'node-llama-cpp';

type Schema = Record<string, unknown>;

const BASIC = ['string', 'number', 'integer', 'boolean', 'null'] as const;
type BasicType = (typeof BASIC)[number];
const FORMATS = new Set(['date-time', 'time', 'date']);
/** Deeper schemas are cut to "any value": the grammar grows with depth. */
const MAX_DEPTH = 12;

const ANY: GbnfJsonSchema = { type: ['string', 'number', 'boolean', 'null'] };

/** The grammar schema of a tool's parameters (an object schema; anything else takes no parameters). */
export function gbnfParams(parameters: Schema): GbnfJsonSchema {
  const defs = (parameters.$defs ?? parameters.definitions) as Record<string, Schema> | undefined;
  const converted = convert(parameters, 0);
  if (!defs || typeof defs !== 'object') return converted;
  const $defs = Object.fromEntries(Object.entries(defs).map(([name, def]) => [name, convert(def, 1)]));
  return { ...(converted as object), $defs } as GbnfJsonSchema;
}

function convert(schema: unknown, depth: number): GbnfJsonSchema {
  if (typeof schema !== 'object' || schema === null || depth > MAX_DEPTH) return ANY;
  const s = schema as Schema;
  const description = typeof s.description === 'string' ? { description: s.description } : {};
  if (typeof s.$ref === 'string') {
    const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(s.$ref)?.[1];
    return name ? ({ $ref: `#/$defs/${name}`, ...description } as GbnfJsonSchema) : ANY;
  }
  if ('const' in s) return { const: s.const as string, ...description } as GbnfJsonSchema;
  if (Array.isArray(s.enum)) return { enum: s.enum as string[], ...description } as GbnfJsonSchema;
  const alternatives = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) return { oneOf: alternatives.map((a) => convert(a, depth + 1)), ...description } as GbnfJsonSchema;
  const type = s.type ?? (s.properties ? 'object' : s.items ? 'array' : undefined);
  if (Array.isArray(type)) {
    const types = type.filter((t): t is BasicType => (BASIC as readonly unknown[]).includes(t));
    if (types.length === type.length && types.length > 0) return { type: types, ...description };
    return { oneOf: (type as unknown[]).map((t) => convert({ ...s, type: t }, depth + 1)), ...description } as GbnfJsonSchema;
  }
  switch (type as string | undefined) {
    case 'object':
      return objectSchema(s, depth, description);
    case 'array': {
      const bounds = pick(s, ['minItems', 'maxItems']);
      return { type: 'array', items: convert(s.items, depth + 1), ...bounds, ...description } as GbnfJsonSchema;
    }
    case 'string':
      if (typeof s.format === 'string' && FORMATS.has(s.format)) return { type: 'string', format: s.format as 'date', ...description };
      return { type: 'string', ...pick(s, ['minLength', 'maxLength']), ...description } as GbnfJsonSchema;
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type: type as BasicType, ...description };
    default:
      return ANY;
  }
}

function objectSchema(s: Schema, depth: number, description: object): GbnfJsonSchema {
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const out: Record<string, GbnfJsonSchema> = {};
  for (const [name, property] of Object.entries(properties)) {
    const converted = convert(property, depth + 1);
    out[name] = required.has(name) ? converted : ({ oneOf: [{ type: 'null' }, converted] } as GbnfJsonSchema);
  }
  // JSON Schema allows more keys unless it says otherwise; a grammar with free keys invites the
  // model to invent some, so only an object with no properties listed takes any.
  const free = Object.keys(out).length === 0 && s.additionalProperties !== false;
  return { type: 'object', properties: out, ...(free ? { additionalProperties: true } : {}), ...description } as GbnfJsonSchema;
}

function pick(s: Schema, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.filter((k) => typeof s[k] === 'number').map((k) => [k, s[k] as number]));
}

/**
 * The arguments with the nulls the grammar made the model write for optional properties removed
 * (a property whose own schema allows null keeps it).
 */
export function withoutDeclinedOptionals(value: unknown, schema: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || typeof schema !== 'object' || schema === null || depth > MAX_DEPTH) return value;
  const s = schema as Schema;
  if (Array.isArray(value)) return value.map((item) => withoutDeclinedOptionals(item, s.items, depth + 1));
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === null && !required.has(key) && !allowsNull(properties[key])) continue;
    out[key] = withoutDeclinedOptionals(item, properties[key], depth + 1);
  }
  return out;
}

function allowsNull(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const s = schema as Schema;
  const type = s.type;
  return type === 'null' || (Array.isArray(type) && type.includes('null')) || (Array.isArray(s.enum) && s.enum.includes(null));
}
