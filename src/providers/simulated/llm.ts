/**
 * Simulated language model for capacity planning: the first token after `firstTokenMs`, the rest
 * at `tokensPerSecond`, on a schedule fixed at the request (a slow consumer does not slow the
 * model down, as with a real server). A token is a word with its punctuation and leading space.
 * The reply is a fixed text of `replyWords` words that opens with a short sentence, or an echo of
 * the user's last message. Offered tools, it behaves like a model that looks things up first: a
 * request whose last message is the user's gets one call of the first lookup tool (its required string
 * parameters filled with the user's words) at `firstTokenMs`; the request with the result gets the
 * reply (so a bench can add one tool round trip per turn). It never hangs up: a phone call's
 * built-in end_call (core/end-call-tool.ts) is not a lookup, and a model that called it on every
 * turn would end every benchmarked call after its first reply. Like an OpenAI-compatible server it
 * refuses a history whose tool calls and results do not pair up (toolHistoryProblem). Asked
 * RECALL_PROMPT (as typed text; never with a tool call), it repeats its replies as the history
 * holds them, word for word, joined by RECALL_SEPARATOR ("Nothing." if there are none): the
 * interruption suite reads back through it what the gateway kept of each reply.
 */
import { waitUntil } from './clock.js';
import type { SimulatedProfile } from './profile.js';
import { ProviderError, type ChatMessage, type ChatModel, type LlmOptions, type LlmOutput, type ToolCall, type ToolSpec } from '../types.js';

type LlmProfile = SimulatedProfile['llm'];

const OPENING = 'Sure, happy to help.';
/** The user message that makes the simulated model repeat its last reply from the history. */
export const RECALL_PROMPT = 'Repeat your replies as you remember them.';
export const RECALL_SEPARATOR = '§';
const FILLER =
  'The forecast for tomorrow is mild and dry with a light breeze from the west. Temperatures rise to about twenty degrees in the afternoon. ' +
  'Rain is not expected until the evening of the next day, so the umbrella can stay at home. Have a good day.';

/** The reply the simulated model gives to `messages`, as the tokens it streams. */
export function simulatedReplyTokens(profile: LlmProfile, messages: ChatMessage[]): string[] {
  const last = messages.at(-1);
  const words = last?.role === 'user' && last.content === RECALL_PROMPT ? recallWords(messages) : profile.reply === 'echo' ? echoWords(messages) : fixedWords(profile.replyWords);
  return words.map((word, i) => (i === 0 ? word : ` ${word}`));
}

/** When token `index` (0-based) is due, in ms after the request. */
export function simulatedTokenDueMs(profile: LlmProfile, index: number): number {
  return profile.firstTokenMs + (index * 1000) / profile.tokensPerSecond;
}

function fixedWords(count: number): string[] {
  const source = `${OPENING} ${FILLER}`.split(' ');
  const words = Array.from({ length: count }, (_, i) => source[i % source.length]!);
  const last = words.length - 1;
  if (!/[.!?]$/.test(words[last]!)) words[last] = `${words[last]!.replace(/[,;:]$/, '')}.`;
  return words;
}

function recallWords(messages: ChatMessage[]): string[] {
  const replies = messages.filter((m) => m.role === 'assistant' && m.content.trim()).map((m) => m.content.trim());
  return (replies.join(` ${RECALL_SEPARATOR} `) || 'Nothing.').split(/\s+/);
}

function echoWords(messages: ChatMessage[]): string[] {
  const said = [...messages].reverse().find((m) => m.role === 'user')?.content.trim() ?? '';
  return `You said: ${said || 'nothing'}.`.split(/\s+/);
}

export class SimulatedChatModel implements ChatModel {
  constructor(private readonly profile: LlmProfile) {}

  async *stream(messages: ChatMessage[], opts: LlmOptions, requestSignal: AbortSignal): AsyncGenerator<LlmOutput> {
    // A profile that ignores aborts plays a server that goes on regardless.
    const signal = this.profile.ignoresAbort ? new AbortController().signal : requestSignal;
    const problem = toolHistoryProblem(messages);
    if (problem) throw new ProviderError('llm', `400 invalid request: ${problem}`);
    const startedAt = performance.now();
    const call = simulatedToolCall(messages, opts);
    if (call) {
      await waitUntil(startedAt + this.profile.firstTokenMs, signal);
      if (!signal.aborted) yield { type: 'tool_call', call };
      return;
    }
    const tokens = simulatedReplyTokens(this.profile, messages);
    for (let i = 0; i < tokens.length; i++) {
      await waitUntil(startedAt + simulatedTokenDueMs(this.profile, i), signal);
      if (signal.aborted) return;
      yield { type: 'text', text: tokens[i]! };
    }
  }
}

let calls = 0;

/** The built-in tool that hangs up a phone call (core/end-call-tool.ts: providers do not import core). */
const HANG_UP_TOOL = 'end_call';

/** The call a tool-using model makes first: the first lookup tool offered, unless the result is in already. */
export function simulatedToolCall(messages: ChatMessage[], opts: LlmOptions): ToolCall | null {
  const tool = opts.tools?.find((t) => t.name !== HANG_UP_TOOL);
  const said = messages.at(-1)?.role === 'user' ? messages.at(-1)!.content : RECALL_PROMPT;
  if (!tool || opts.toolChoice === 'none' || said === RECALL_PROMPT) return null;
  return { id: `call_sim_${++calls}`, type: 'function', function: { name: tool.name, arguments: JSON.stringify(argumentsFor(tool, said)) } };
}

function argumentsFor(tool: ToolSpec, said: string): Record<string, string> {
  const properties = (tool.parameters.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = Array.isArray(tool.parameters.required) ? (tool.parameters.required as string[]) : [];
  return Object.fromEntries(required.filter((name) => properties[name]?.type === 'string').map((name) => [name, said]));
}

/**
 * What OpenAI-compatible servers refuse in a history (HTTP 400): an assistant message with
 * `tool_calls` not followed at once by one `tool` message per call, or a `tool` message that
 * answers no call just before it. Null when the history is valid.
 */
export function toolHistoryProblem(messages: readonly ChatMessage[]): string | null {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'tool') return `a tool message (tool_call_id ${m.tool_call_id}) must answer a tool call of the assistant message before it`;
    if (m.role !== 'assistant' || !m.tool_calls?.length) continue;
    const answered: string[] = [];
    for (let next = messages[i + 1]; next?.role === 'tool'; next = messages[++i + 1]) answered.push(next.tool_call_id);
    const missing = m.tool_calls.find((c) => !answered.includes(c.id));
    if (missing) return `an assistant message with tool_calls must be followed by tool messages responding to each tool_call_id (${missing.id} has none)`;
    const stray = answered.find((id) => !m.tool_calls!.some((c) => c.id === id));
    if (stray) return `a tool message (tool_call_id ${stray}) must answer a tool call of the assistant message before it`;
  }
  return null;
}
