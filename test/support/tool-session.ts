/**
 * Sessions with tools for core tests: the scripted VAD, ASR and TTS, a scripted LLM that calls
 * tools as a script says, and the gateway's tool settings with small, event-friendly numbers.
 */
import type { SessionObserver } from '../../src/core/session.js';
import type { ToolsConfig } from '../../src/core/session-tools.js';
import { DEFAULT_FILLER_PHRASES } from '../../src/core/tool-filler.js';
import type { ToolRoundSettings } from '../../src/core/tool-rounds.js';
import type { ChatMessage, LlmOptions, LlmOutput, ToolBackend, ToolCall } from '../../src/providers/types.js';
import { McpToolBackend } from '../../src/providers/tools/mcp.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad } from './scripted-providers.js';
import { SessionDriver, sessionConfig } from './session-harness.js';

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The weather now in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

export function call(id: string, name: string, args: unknown): LlmOutput {
  const call: ToolCall = { id, type: 'function', function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) } };
  return { type: 'tool_call', call };
}

/** The tool messages of a request, by call id. */
export function toolResults(messages: ChatMessage[]): Record<string, string> {
  return Object.fromEntries(messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]));
}

/**
 * Every tool call has its result right after its assistant message, and every result its call:
 * what LLM servers insist on.
 */
export function assertValidToolHistory(messages: ChatMessage[]): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const ids = m.tool_calls.map((c) => c.id);
      const following = messages.slice(i + 1, i + 1 + ids.length);
      if (following.length !== ids.length || following.some((f) => f.role !== 'tool' || !ids.includes(f.tool_call_id))) {
        throw new Error(`tool calls ${ids.join(', ')} at message ${i} are not followed by their results: ${JSON.stringify(messages.slice(i))}`);
      }
    }
    if (m.role === 'tool') {
      const owner = messages.slice(0, i).findLast((x) => x.role === 'assistant');
      if (owner?.role !== 'assistant' || !owner.tool_calls?.some((c) => c.id === m.tool_call_id)) throw new Error(`result ${m.tool_call_id} at message ${i} has no call before it`);
    }
  }
}

export function toolRoundSettings(overrides: Partial<ToolRoundSettings> = {}): ToolRoundSettings {
  return { maxRounds: 4, timeoutMs: 30_000, fillerAfterMs: 0, argumentRetries: 2, resultMaxBytes: 4096, activityDetail: false, ...overrides };
}

export interface ToolSessionOptions {
  /** The LLM's reply to a request, as tokens and calls. */
  reply: (messages: ChatMessage[], opts: LlmOptions) => Array<string | LlmOutput>;
  rounds?: Partial<ToolRoundSettings>;
  backend?: ToolBackend;
  utterances?: string[] | ((voicedMs: number) => string);
  asr?: ScriptedAsr;
  speculativeStart?: boolean;
  tokenDelayMs?: number;
  tts?: ScriptedTts;
  observer?: SessionObserver;
}

export function toolSession(options: ToolSessionOptions): { driver: SessionDriver; llm: ScriptedLlm; tts: ScriptedTts } {
  const llm = new ScriptedLlm({ reply: options.reply, tokenDelayMs: options.tokenDelayMs ?? 1 });
  const tts = options.tts ?? new ScriptedTts({ msPerChar: 20 });
  const tools: ToolsConfig = {
    ...(options.backend ? { backend: options.backend } : {}),
    rounds: toolRoundSettings(options.rounds),
    fillerPhrases: DEFAULT_FILLER_PHRASES,
    declarationsMaxBytes: 65536,
  };
  const asr = options.asr ?? new ScriptedAsr(options.utterances ?? ['what is the weather in Oslo']);
  const driver = new SessionDriver({ vad: new ScriptedVad(), asr, llm, tts }, sessionConfig({ tools, speculativeStart: options.speculativeStart ?? false }), options.observer);
  return { driver, llm, tts };
}

/** The gateway's MCP client on a test server's tools (all allowed), connected. */
export async function mcpBackend(url: string, allow: string[] = ['*'], toolTimeoutsMs: Record<string, number> = {}): Promise<McpToolBackend> {
  const backend = new McpToolBackend({ servers: [{ name: 'shop', url, headers: {}, allow, toolTimeoutsMs }], env: {}, connectTimeoutMs: 5000, refreshIntervalMs: 0 });
  await backend.start();
  return backend;
}
