/**
 * Client events in: one JSON text frame is one Realtime event, read into one core client event.
 * Everything a frame can get wrong (not JSON, no type, an unknown type, a missing or invalid
 * field, base64 that is not audio) becomes a WireError naming the parameter; what only the
 * conversation can judge (an unknown item, nothing to commit) is the core's to answer.
 *
 * Semantics kept simple, as OpenAI's: `conversation.item.create` only adds the item (no reply);
 * `response.create` replies to the conversation as it is. Items are messages with text content,
 * function calls, and function call outputs (a `function_call_output` is the result of a call the
 * gateway made: the core's `tool_result`); audio items and out-of-band responses
 * (`conversation: "none"`, `input`) are refused with an error that says so.
 */
import { z } from 'zod';
import type { ClientEvent, NewItem } from '../../core/events.js';
import { readSessionUpdate, type Dialect, type RealtimeSessionState } from './session-config.js';
import { invalidValue, WireError, zodProblem } from './wire-error.js';

/** A client event for the core, without its ref (the connection assigns one). */
export type CoreEvent = ClientEvent extends infer E ? (E extends unknown ? Omit<E, 'ref'> : never) : never;

/** What the connection keeps about an event until the core answers it. */
export interface EventContext {
  /** The client's event_id, echoed in an error it causes. */
  clientEventId?: string;
  type: string;
  /** The field a core error about this event concerns. */
  param?: string;
  /** session.update: this protocol's part, applied once the core accepted the rest. */
  session?: Partial<RealtimeSessionState>;
  /** conversation.item.truncate: echoed in conversation.item.truncated. */
  contentIndex?: number;
}

export type ReadResult = { ok: true; event: CoreEvent; context: EventContext } | { ok: false; error: WireError; clientEventId?: string };

export const CLIENT_EVENT_TYPES = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
] as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const itemId = z.string().min(1).max(64);
/** A client's event_id comes back in errors: a longer one is refused, not echoed. */
const EVENT_ID_MAX_CHARS = 128;
/** Text parts of one item (their joined text is bounded by MAX_TEXT_CHARS in the core). */
const ITEM_MAX_PARTS = 32;
/** A function_call item's arguments a client adds (the model's own are bounded by the LLM provider). */
const ARGUMENTS_MAX_CHARS = 65536;

const schemas = {
  'session.update': z.looseObject({ session: z.looseObject({}) }),
  'input_audio_buffer.append': z.looseObject({ audio: z.string() }),
  'input_audio_buffer.commit': z.looseObject({}),
  'input_audio_buffer.clear': z.looseObject({}),
  'conversation.item.create': z.looseObject({
    previous_item_id: itemId.nullable().optional(),
    item: z.discriminatedUnion(
      'type',
      [
        z.looseObject({
          id: itemId.optional(),
          type: z.literal('message'),
          role: z.enum(['user', 'assistant', 'system']),
          content: z
            .array(
              z.looseObject({
                type: z.enum(['input_text', 'output_text', 'text', 'input_audio', 'output_audio', 'audio', 'input_image']),
                text: z.string().optional(),
              }),
            )
            .min(1)
            .max(ITEM_MAX_PARTS),
        }),
        z.looseObject({ id: itemId.optional(), type: z.literal('function_call_output'), call_id: z.string().min(1).max(128), output: z.string() }),
        z.looseObject({ id: itemId.optional(), type: z.literal('function_call'), call_id: z.string().min(1).max(128), name: z.string().min(1).max(64), arguments: z.string().max(ARGUMENTS_MAX_CHARS) }),
      ],
      { error: 'item.type must be "message", "function_call" or "function_call_output"' },
    ),
  }),
  'conversation.item.retrieve': z.looseObject({ item_id: itemId }),
  'conversation.item.truncate': z.looseObject({
    item_id: itemId,
    content_index: z.literal(0, { error: 'content_index must be 0: an assistant item has one audio part' }).default(0),
    audio_end_ms: z.number().int().min(0),
  }),
  'conversation.item.delete': z.looseObject({ item_id: itemId }),
  'response.create': z.looseObject({
    response: z
      .looseObject({
        instructions: z.string().optional(),
        conversation: z.literal('auto', { error: 'only conversation "auto" is supported: out-of-band responses are not' }).optional(),
        input: z.undefined({ error: 'response.input is not supported: the reply always uses the conversation' }).optional(),
        tools: z.array(z.unknown()).max(0, 'tools per response are not supported: declare them for the session with session.update').optional(),
        output_modalities: z.array(z.literal('audio', { error: 'output_modalities must be ["audio"]: text-only replies are not supported yet' })).optional(),
        modalities: z.array(z.enum(['text', 'audio'])).refine((m) => m.includes('audio'), 'modalities must include "audio"').optional(),
      })
      .optional(),
  }),
  'response.cancel': z.looseObject({ response_id: z.string().min(1).max(64).optional() }),
} satisfies Record<(typeof CLIENT_EVENT_TYPES)[number], z.ZodType>;

const NOT_ON_WEBSOCKET: Record<string, string> = {
  'output_audio_buffer.clear':
    'output_audio_buffer.clear is for WebRTC and SIP: over a WebSocket the client owns playback; stop it and send conversation.item.truncate',
  'transcription_session.update': 'transcription sessions are not supported by this gateway: use a realtime session',
};

/** Reads one text frame. */
export function readClientEvent(text: string, dialect: Dialect): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new WireError('invalid_request_error', 'invalid_json', `the frame is not JSON (${why}): send one JSON object per text frame`) };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, error: new WireError('invalid_request_error', 'invalid_json', 'the frame is not a JSON object: send one event object per text frame') };
  }
  const raw = json as Record<string, unknown>;
  if (typeof raw.event_id === 'string' && raw.event_id.length > EVENT_ID_MAX_CHARS) {
    return { ok: false, error: invalidValue('event_id', `event_id is ${raw.event_id.length} characters long: at most ${EVENT_ID_MAX_CHARS}`) };
  }
  const clientEventId = typeof raw.event_id === 'string' ? raw.event_id : undefined;
  try {
    return { ok: true, ...read(raw, clientEventId, dialect) };
  } catch (error) {
    if (error instanceof WireError) return { ok: false, error, clientEventId };
    throw error;
  }
}

function read(raw: Record<string, unknown>, clientEventId: string | undefined, dialect: Dialect): { event: CoreEvent; context: EventContext } {
  const type = raw.type;
  if (typeof type !== 'string') throw new WireError('invalid_request_error', 'missing_required_parameter', 'the event has no "type": every event is an object with a string type', 'type');
  if (NOT_ON_WEBSOCKET[type]) throw invalidValue('type', NOT_ON_WEBSOCKET[type]);
  if (!(CLIENT_EVENT_TYPES as readonly string[]).includes(type)) {
    throw invalidValue('type', `unsupported event type ${JSON.stringify(type.slice(0, 100))}: use one of ${CLIENT_EVENT_TYPES.join(', ')}`);
  }
  const known = type as (typeof CLIENT_EVENT_TYPES)[number];
  const context: EventContext = { clientEventId, type };
  switch (known) {
    case 'session.update': {
      const e = parse(schemas[known], raw);
      const update = readSessionUpdate(dialect, e.session);
      return { event: { type: 'update', settings: update.patch }, context: { ...context, session: update.state } };
    }
    case 'input_audio_buffer.append': {
      const { audio } = parse(schemas[known], raw);
      if (!audio) throw invalidValue('audio', 'audio is empty: send base64 of the audio in the session\'s input format');
      if (audio.length % 4 !== 0 || !BASE64.test(audio)) throw invalidValue('audio', 'audio is not base64: send standard base64 (A-Z, a-z, 0-9, +, /, = padding) of the audio bytes');
      return { event: { type: 'audio', data: Buffer.from(audio, 'base64') }, context: { ...context, param: 'audio' } };
    }
    case 'input_audio_buffer.commit':
      return { event: { type: 'commit' }, context };
    case 'input_audio_buffer.clear':
      return { event: { type: 'clear_input' }, context };
    case 'conversation.item.create': {
      const e = parse(schemas[known], withMessageDefault(raw));
      const previous = e.previous_item_id;
      const after = previous === 'root' ? null : (previous ?? undefined);
      const item = e.item;
      if (item.type === 'function_call_output') {
        const event: CoreEvent = { type: 'tool_result', callId: item.call_id, output: item.output, after, ...(item.id === undefined ? {} : { itemId: item.id }) };
        return { event, context: { ...context, param: 'item.call_id' } };
      }
      if (item.type === 'function_call') {
        const added: NewItem = { role: 'assistant', text: '', tool: { kind: 'call', callId: item.call_id, name: item.name, arguments: item.arguments }, ...(item.id === undefined ? {} : { id: item.id }) };
        return { event: { type: 'add_item', item: added, after }, context: { ...context, param: 'item' } };
      }
      return { event: { type: 'add_item', item: newItem(item), after }, context: { ...context, param: 'item' } };
    }
    case 'conversation.item.retrieve':
      return { event: { type: 'get_item', itemId: parse(schemas[known], raw).item_id }, context: { ...context, param: 'item_id' } };
    case 'conversation.item.truncate': {
      const e = parse(schemas[known], raw);
      return { event: { type: 'truncate', itemId: e.item_id, audioEndMs: e.audio_end_ms }, context: { ...context, param: 'audio_end_ms', contentIndex: e.content_index } };
    }
    case 'conversation.item.delete':
      return { event: { type: 'delete_item', itemId: parse(schemas[known], raw).item_id }, context: { ...context, param: 'item_id' } };
    case 'response.create': {
      const instructions = parse(schemas[known], raw).response?.instructions;
      return { event: instructions === undefined ? { type: 'respond' } : { type: 'respond', instructions }, context };
    }
    case 'response.cancel': {
      const responseId = parse(schemas[known], raw).response_id;
      return { event: responseId === undefined ? { type: 'cancel' } : { type: 'cancel', responseId }, context: { ...context, param: 'response_id' } };
    }
  }
}

function parse<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw zodProblem(parsed.error, '');
  return parsed.data;
}

type ItemIn = Extract<z.output<(typeof schemas)['conversation.item.create']>['item'], { type: 'message' }>;

/** An item without a type is a message (OpenAI's default). */
function withMessageDefault(raw: Record<string, unknown>): Record<string, unknown> {
  const item = raw.item;
  if (typeof item === 'object' && item !== null && !('type' in item)) return { ...raw, item: { ...item, type: 'message' } };
  return raw;
}

/** A message item's text parts, joined; audio and image parts are refused. */
function newItem(item: ItemIn): NewItem {
  const texts: string[] = [];
  for (const [i, part] of item.content.entries()) {
    if (part.type === 'input_audio' || part.type === 'output_audio' || part.type === 'audio' || part.type === 'input_image') {
      throw invalidValue(`item.content.${i}.type`, `content of type "${part.type}" is not supported in conversation.item.create: send text, or append audio to the input buffer and commit it`);
    }
    if (part.text === undefined) throw new WireError('invalid_request_error', 'missing_required_parameter', `item.content.${i}.text is missing`, `item.content.${i}.text`);
    texts.push(part.text);
  }
  return { ...(item.id === undefined ? {} : { id: item.id }), role: item.role, text: texts.join('\n') };
}
