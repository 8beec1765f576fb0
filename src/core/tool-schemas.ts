/**
 * JSON Schema for tools, with ajv: a client's tool declarations are checked once when they come
 * (each `parameters` must be a valid JSON Schema object schema, names distinct and valid, the whole
 * within bounds), and the model's arguments are checked against the tool's schema before the tool
 * runs, so a bad call is answered to the model instead of reaching the tool.
 *
 * Schemas are draft-07 unless they say `$schema` 2020-12 (MCP servers and OpenAI tools use both).
 * Compiled validators are cached by schema text: sessions of one app declare the same tools.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { TOOL_NAME, type ToolChoice } from '../providers/types.js';
import { GatewayError, type ToolDeclaration } from './events.js';

/** OpenAI's limit on tools per request; the LLM servers that copy its API keep it too. */
export const MAX_TOOLS = 128;
const TIMEOUT_RANGE_MS = [10, 600000] as const;
const CACHE_MAX = 256;

const draft7 = new Ajv({ strict: false, allErrors: false, validateFormats: false });
const draft2020 = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const validators = new Map<string, ValidateFunction>();

function ajvFor(schema: Record<string, unknown>): Ajv | Ajv2020 {
  return typeof schema.$schema === 'string' && schema.$schema.includes('2020-12') ? draft2020 : draft7;
}

/** A compiled validator of `schema`; throws with ajv's words when it is not a valid JSON Schema. */
export function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  const cached = validators.get(key);
  if (cached) return cached;
  const ajv = ajvFor(schema);
  if (!ajv.validateSchema(schema)) throw new Error(ajv.errorsText(ajv.errors, { dataVar: 'schema' }));
  const validate = ajv.compile(schema);
  if (validators.size >= CACHE_MAX) validators.delete(validators.keys().next().value!);
  validators.set(key, validate);
  return validate;
}

/**
 * Checks a client's tool declarations: valid names, distinct and not taken by the gateway's own
 * tools, parameters that are JSON Schema objects, timeouts in range, and at most `maxBytes` of
 * JSON in all. Throws an invalid_argument GatewayError naming the tool and the problem.
 */
export function checkToolDeclarations(tools: ToolDeclaration[], serverToolNames: ReadonlySet<string>, maxBytes: number): ToolDeclaration[] {
  const invalid = (message: string): never => {
    throw new GatewayError('invalid_argument', message);
  };
  if (tools.length > MAX_TOOLS) invalid(`${tools.length} tools were declared: at most ${MAX_TOOLS}`);
  const bytes = Buffer.byteLength(JSON.stringify(tools));
  if (bytes > maxBytes) invalid(`the tool declarations are ${bytes} bytes of JSON: at most ${maxBytes} (TOOL_DECLARATIONS_MAX_BYTES)`);
  const seen = new Set<string>();
  for (const [i, tool] of tools.entries()) {
    const where = `tools[${i}]`;
    if (!TOOL_NAME.test(tool.name)) invalid(`${where}.name ${JSON.stringify(tool.name.slice(0, 80))} is not accepted: use 1 to 64 letters, digits, _ or -`);
    if (seen.has(tool.name)) invalid(`${where}.name "${tool.name}" is declared twice: each tool needs its own name`);
    if (serverToolNames.has(tool.name)) invalid(`${where}.name "${tool.name}" is taken by one of the gateway's own tools: choose another name`);
    seen.add(tool.name);
    const params = tool.parameters;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) invalid(`${where}.parameters must be a JSON Schema object, e.g. {"type":"object","properties":{}}`);
    if (params.type !== undefined && params.type !== 'object') invalid(`${where}.parameters must describe an object (type "object"), not ${JSON.stringify(params.type)}: arguments are always a JSON object`);
    try {
      validatorOf(params);
    } catch (error) {
      invalid(`${where}.parameters of "${tool.name}" is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
    }
    const timeoutMs = tool.timeoutMs;
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < TIMEOUT_RANGE_MS[0] || timeoutMs > TIMEOUT_RANGE_MS[1])) {
      invalid(`${where}.timeout_ms ${timeoutMs} is out of range: use ${TIMEOUT_RANGE_MS[0]} to ${TIMEOUT_RANGE_MS[1]}, or 0 for the server's`);
    }
  }
  return tools;
}

/** A named tool choice must name a tool on offer. */
export function checkToolChoice(choice: ToolChoice, names: ReadonlySet<string>): ToolChoice {
  if (typeof choice === 'object' && !names.has(choice.name)) {
    throw new GatewayError('invalid_argument', `tool_choice names "${choice.name}", which is not a declared tool: declare it, or choose auto, none or required`);
  }
  return choice;
}

/**
 * The model's arguments for a tool as an object, or why they cannot be used: not JSON, not an
 * object, or not what the tool's schema accepts (ajv's first complaint).
 */
export function parseArguments(text: string, schema: Record<string, unknown>): { ok: true; args: Record<string, unknown> } | { ok: false; problem: string } {
  let args: unknown;
  try {
    args = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `the arguments are not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { ok: false, problem: 'the arguments must be a JSON object' };
  let validate: ValidateFunction;
  try {
    validate = validatorOf(schema);
  } catch {
    return { ok: true, args: args as Record<string, unknown> }; // a server tool's odd schema: its server judges
  }
  if (!validate(args)) return { ok: false, problem: `the arguments do not match the tool's parameters: ${draft7.errorsText(validate.errors, { dataVar: 'arguments' })}` };
  return { ok: true, args: args as Record<string, unknown> };
}
