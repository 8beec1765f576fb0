/**
 * The Realtime WebSocket handshake: which dialect a client speaks, the key it presents and the
 * subprotocol to answer, and the HTTP refusal when no session can be opened.
 *
 * Node clients (the `openai` SDK, `@openai/agents-realtime`) send `Authorization: Bearer <key>`;
 * browsers cannot set headers and offer subprotocols instead: `realtime`,
 * `openai-insecure-api-key.<key>` and, for the beta dialect, `openai-beta.realtime-v1`. The server
 * answers with `realtime`, never with a protocol that holds a key.
 */
import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../session-factory.js';
import type { UpgradeRefusal } from '../websocket-shared/sessions.js';
import type { Dialect } from './session-config.js';

export const REALTIME_SUBPROTOCOL = 'realtime';
const KEY_PREFIX = 'openai-insecure-api-key.';
/** Extension (README, "Resume"): a browser offers its resume token as this subprotocol. */
const RESUME_PREFIX = 'voice-gateway-resume.';
const BETA_SUBPROTOCOL = 'openai-beta.realtime-v1';
/** The `model` query parameter is shown back in every session object. */
const MODEL_MAX_CHARS = 128;

export interface Handshake {
  dialect: Dialect;
  credential: string | undefined;
  /** The `model` query parameter, shown back in the session. */
  model: string;
  /** Extension: continue the session of this token (`x-resume-token` header or subprotocol). */
  resumeToken: string | undefined;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function offeredProtocols(request: IncomingMessage): string[] {
  return (header(request, 'sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Beta when the client sends `OpenAI-Beta: realtime=v1` (or its subprotocol), else GA. */
export function readHandshake(request: IncomingMessage, defaultModel: string): Handshake | { problem: string } {
  const url = new URL(request.url ?? '/', 'http://gateway');
  if (url.searchParams.has('intent') || url.searchParams.has('call_id')) {
    return { problem: 'this gateway serves conversations only: connect with ?model=<name>, not ?intent=transcription or ?call_id=' };
  }
  const offered = offeredProtocols(request);
  const beta = /(^|[\s,])realtime=v1($|[\s,])/.test(header(request, 'openai-beta') ?? '') || offered.includes(BETA_SUBPROTOCOL);
  const fromProtocol = offered.find((p) => p.startsWith(KEY_PREFIX))?.slice(KEY_PREFIX.length);
  const resumeToken = header(request, 'x-resume-token') ?? offered.find((p) => p.startsWith(RESUME_PREFIX))?.slice(RESUME_PREFIX.length);
  const model = url.searchParams.get('model') || defaultModel;
  if (model.length > MODEL_MAX_CHARS) return { problem: `the model name is ${model.length} characters long: at most ${MODEL_MAX_CHARS}` };
  return {
    resumeToken: resumeToken || undefined,
    dialect: beta ? 'beta' : 'ga',
    credential: bearerToken(header(request, 'authorization')) ?? header(request, 'x-api-key') ?? (fromProtocol || undefined),
    model,
  };
}

/** ws's handleProtocols: `realtime` when offered, else no subprotocol. */
export function chooseProtocol(offered: Set<string>): string | false {
  return offered.has(REALTIME_SUBPROTOCOL) ? REALTIME_SUBPROTOCOL : false;
}

/** OpenAI's error codes for each refusal of an upgrade. */
const WIRE_CODE: Record<UpgradeRefusal, string> = {
  unauthenticated: 'invalid_api_key',
  resource_exhausted: 'rate_limit_exceeded',
  unavailable: 'server_unavailable',
  bad_request: 'invalid_request',
  forbidden_origin: 'forbidden_origin',
};

/** The body of a refused upgrade, in OpenAI's error shape: the SDKs report the status, people read this. */
export function refusalBody(refusal: UpgradeRefusal, message: string): { contentType: string; body: string } {
  return { contentType: 'application/json', body: JSON.stringify({ error: { type: 'invalid_request_error', code: WIRE_CODE[refusal], message, param: null } }) };
}
