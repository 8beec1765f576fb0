/**
 * Tool rounds inside one reply (docs/architecture.md, "Tools"). The LLM streams text and calls;
 * when its stream ends with calls, the reply runs them and asks the LLM again with the results,
 * at most TOOL_MAX_ROUNDS times, the last time with tool_choice "none" so that it answers.
 *
 * Rules a round keeps:
 * - Nothing runs, and the conversation does not change, before the reply may act: a speculative
 *   reply waits here for the final transcript (`mayAct`), and a miss ends it without a call.
 * - A call's arguments are checked against the tool's schema first; a call that cannot run (bad
 *   JSON, wrong arguments, no such tool) is answered to the model with the problem, at most
 *   TOOL_ARGUMENT_RETRIES times per reply, then the model must answer without tools.
 * - Every call has its own timeout; the model is told when one passed.
 * - While calls run, fillers keep the silence under TOOL_FILLER_AFTER_MS (./tool-filler.ts).
 * - When the reply is interrupted, calls still running are cancelled (an MCP server is sent
 *   `notifications/cancelled`, a client `tool_call_cancelled`) and their call items removed;
 *   results that came before stay, with their calls, so the next turn does not run them again.
 * - In the Realtime way (`callsEndReply`), the client's calls end the reply: they are sent and
 *   the client answers them as items and asks for the next reply itself.
 * - The built-in `end_call` (./end-call-tool.ts) ends the reply too: it is answered at once, and
 *   the reply's end decides whether the call is hung up (`endCall`).
 */
import type { ChatMessage, LlmOptions, ServerTool, ToolBackend, ToolCall, ToolChoice, ToolSpec } from '../providers/types.js';
import type { ConversationItem, ServerEvent, ToolCallOutcome, ToolCancelReason } from './events.js';
import { FillerTimer } from './tool-filler.js';
import type { ToolResults } from './tool-results.js';
import { END_CALL_ACCEPTED, END_CALL_NOT_ALONE, endCallReason, type EndCallRequest } from './end-call-tool.js';
import { parseArguments } from './tool-schemas.js';

export interface ToolRoundSettings {
  maxRounds: number;
  /** Per call, unless the tool has its own. */
  timeoutMs: number;
  fillerAfterMs: number;
  argumentRetries: number;
  /** A server tool's longer result is cut to this (clients get an error instead). */
  resultMaxBytes: number;
  /** tool_activity carries arguments and output. */
  activityDetail: boolean;
}

/** A tool on offer in a reply: the client's (it runs it), the gateway's (from an MCP server), or built in (end_call). */
export type OfferedTool = { kind: 'client'; spec: ToolSpec; timeoutMs?: number } | { kind: 'server'; tool: ServerTool } | { kind: 'builtin'; spec: ToolSpec };

/** One call as observers see it (metrics, traces, logs). Times are performance.now() ms. */
export interface ToolCallRecord {
  callId: string;
  name: string;
  kind: OfferedTool['kind'];
  /** The MCP server, for a server tool. */
  server?: string;
  outcome: ToolCallOutcome;
  startedAt: number;
  endedAt: number;
  /** The model's arguments text (logs show it only at debug). */
  arguments: string;
}

export interface ToolRoundHost {
  responseId: string;
  offered: readonly OfferedTool[];
  toolChoice: ToolChoice;
  /** Fillers while a client tool runs (server tools always get them). */
  clientFiller: boolean;
  fillerPhrases: readonly string[];
  callsEndReply: boolean;
  settings: ToolRoundSettings;
  backend?: ToolBackend;
  results: ToolResults;
  /** Resolves true once the reply may act (a speculative one: confirmed), false if it was dropped. */
  mayAct(): Promise<boolean>;
  /** An event of this reply (held while it is speculative, dropped once it is not current). */
  emit(event: ServerEvent): void;
  /**
   * Adds a tool item to the conversation and returns the item before it. `shown`: item clients
   * are told (a server tool's items only with TOOL_ACTIVITY_DETAIL: they are the gateway's own).
   */
  addItem(item: ConversationItem, shown: boolean): string | null;
  removeItem(id: string, shown: boolean): void;
  freeItemId(base: string): string;
  /** Why the reply stopped, for the calls cancelled with it. */
  cancelReason(): ToolCancelReason;
}

/** What the reply lends a round: a way to say a filler, when its audio ends, its abort signal. */
export interface RoundIo {
  speak: (text: string) => void;
  audioEndsAt: () => number;
  signal: AbortSignal;
}

type Finished = { message: string; outcome: ToolCallOutcome };
type Planned = {
  call: ToolCall;
  itemId: string;
  previousItemId: string | null;
  startedAt: number;
  run: OfferedTool['kind'] | 'answered';
  tool?: OfferedTool;
  args?: Record<string, unknown>;
  answer?: Finished;
};

export class ToolRounds {
  readonly records: ToolCallRecord[] = [];
  /** The model called end_call: the reply ends at it, and its end decides the hang-up. */
  endCall: EndCallRequest | undefined;
  private rounds = 0;
  private badCalls = 0;

  constructor(private readonly host: ToolRoundHost) {}

  /** The tools and the choice for the next LLM request of the reply. */
  llmOptions(): Pick<LlmOptions, 'tools' | 'toolChoice'> {
    const { offered, settings, toolChoice } = this.host;
    if (offered.length === 0) return {};
    const done = this.rounds >= settings.maxRounds || this.badCalls > settings.argumentRetries;
    return { tools: offered.map(specOf), toolChoice: done ? 'none' : toolChoice };
  }

  /**
   * Runs the model's `calls`, made after it said `text`. Returns the messages to add to the next
   * request, or null when the reply ends here (interrupted, dropped, out of rounds, or its
   * calls went to a Realtime client).
   */
  async run(calls: ToolCall[], text: string, io: RoundIo): Promise<ChatMessage[] | null> {
    if (!(await this.host.mayAct()) || io.signal.aborted) return null;
    if (this.llmOptions().toolChoice === 'none') return null; // told not to call: it answered with calls anyway
    this.rounds++;
    // Every call's item first, then results as they come: the calls stay together (one message).
    const planned = calls.map((call) => this.plan(call, calls.length === 1));
    for (const p of planned) if (p.answer) this.addOutput(p, p.answer);
    const ending = planned.find((p) => p.run === 'builtin');
    if (ending) return this.acceptEndCall(ending);
    const endsReply = this.host.callsEndReply && planned.some((p) => p.run === 'client');
    const waited = planned.filter((p) => p.run === 'server' || (p.run === 'client' && !endsReply));
    const fillers = new FillerTimer(
      waited.some((p) => p.run === 'server' || this.host.clientFiller) ? this.host.fillerPhrases : [],
      this.host.settings.fillerAfterMs,
      io.audioEndsAt,
      io.speak,
    );
    fillers.start();
    try {
      const finished = await Promise.all(planned.map((p) => (p.run === 'answered' ? Promise.resolve(p.answer!) : p.run === 'client' && endsReply ? Promise.resolve(null) : this.execute(p, io.signal))));
      if (io.signal.aborted) {
        this.dropUnanswered(planned, finished);
        return null;
      }
      if (endsReply) {
        for (const p of planned) if (p.run === 'client') this.host.emit(this.callEvent(p));
        return null;
      }
      const results = finished.map((f, i): ChatMessage => ({ role: 'tool', tool_call_id: planned[i]!.call.id, content: f!.message }));
      return [{ role: 'assistant', content: text, tool_calls: calls }, ...results];
    } finally {
      fillers.stop();
    }
  }

  /** The call's item, and whether it can run (else its answer to the model). `alone`: the round's only call. */
  private plan(call: ToolCall, alone: boolean): Planned {
    const { name, arguments: argsText } = call.function;
    const itemId = this.host.freeItemId(`fc_${call.id.slice(0, 40)}`);
    const tool = this.host.offered.find((t) => specOf(t).name === name);
    const item: ConversationItem = { id: itemId, role: 'assistant', text: '', origin: 'text', tool: { kind: 'call', callId: call.id, name, arguments: argsText } };
    const previousItemId = this.host.addItem(item, this.shown(tool));
    const base = { call, itemId, previousItemId, startedAt: performance.now() };
    const refuse = (problem: string): Planned => {
      this.badCalls++;
      const last = this.badCalls > this.host.settings.argumentRetries;
      const next = last ? 'No more attempts: answer without calling tools.' : `Call ${tool ? name : 'one of the tools'} again with arguments that match its parameters.`;
      const answer: Finished = { message: `Error: ${problem}. ${next}`, outcome: 'invalid_arguments' };
      this.finish(base, tool, answer);
      return { ...base, run: 'answered', answer };
    };
    if (!tool) return refuse(`there is no tool named "${name.slice(0, 64)}"; the tools are ${this.host.offered.map((t) => specOf(t).name).join(', ')}`);
    if (tool.kind === 'builtin' && !alone) {
      this.badCalls++;
      const answer: Finished = { message: END_CALL_NOT_ALONE, outcome: 'invalid_arguments' };
      this.finish(base, tool, answer);
      return { ...base, run: 'answered', answer };
    }
    const parsed = parseArguments(argsText, specOf(tool).parameters);
    if (!parsed.ok) return refuse(parsed.problem);
    return { ...base, run: tool.kind, tool, args: parsed.args };
  }

  /** Runs one call to its end: its result, its timeout, or the reply's interruption. */
  private async execute(p: Planned, replySignal: AbortSignal): Promise<Finished | null> {
    const tool = p.tool!;
    if (tool.kind === 'builtin') return null; // never here: end_call is answered where it is planned
    const timeoutMs = (tool.kind === 'client' ? tool.timeoutMs : tool.tool.timeoutMs) ?? this.host.settings.timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort('timeout'), timeoutMs);
    const signal = AbortSignal.any([replySignal, timeout.signal]);
    try {
      const answer = tool.kind === 'client' ? await this.runClient(p, signal) : await this.runServer(p, tool.tool, signal);
      if (replySignal.aborted) return null;
      const finished: Finished = answer ?? { message: `Error: the tool did not answer within ${timeoutMs} ms and was cancelled; it may or may not have run.`, outcome: 'timeout' };
      this.addOutput(p, finished);
      this.finish(p, tool, finished);
      return finished;
    } finally {
      clearTimeout(timer);
      if (replySignal.aborted) this.finish(p, tool, { message: '', outcome: 'cancelled' });
    }
  }

  /** null: cancelled (timeout or the reply's end); the client was told. */
  private async runClient(p: Planned, signal: AbortSignal): Promise<Finished | null> {
    const results = this.host.results;
    const call = this.callEvent(p);
    const waiting = results.expect(call);
    this.host.emit(call);
    // On the next microtask: an interruption aborts the reply before its owner records who did it.
    const cancel = () => queueMicrotask(() => results.cancel(p.call.id, signal.reason === 'timeout' ? 'timeout' : this.host.cancelReason()));
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const result = await waiting;
      return { message: result.isError ? `Error: ${result.output}` : result.output, outcome: result.isError ? 'error' : 'ok' };
    } catch {
      return null;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }

  private async runServer(p: Planned, tool: ServerTool, signal: AbortSignal): Promise<Finished | null> {
    const backend = this.host.backend;
    const detail = this.host.settings.activityDetail;
    this.host.emit({ type: 'tool_activity', responseId: this.host.responseId, callId: p.call.id, name: tool.name, server: tool.server, ...(detail ? { arguments: p.call.function.arguments } : {}) });
    try {
      if (!backend) return { message: `Error: the tool server "${tool.server}" is not configured any more.`, outcome: 'unavailable' };
      const result = await backend.call(tool, p.args ?? {}, signal);
      const output = cut(result.output, this.host.settings.resultMaxBytes);
      return { message: result.outcome === 'ok' ? output : `Error: ${output}`, outcome: result.outcome };
    } catch {
      return null; // aborted: timeout or the reply's end; the SDK told the server
    }
  }

  private callEvent(p: Planned): Extract<ServerEvent, { type: 'tool_call' }> {
    const { id, function: fn } = p.call;
    return { type: 'tool_call', responseId: this.host.responseId, callId: id, name: fn.name, arguments: fn.arguments, itemId: p.itemId, previousItemId: p.previousItemId };
  }

  private addOutput(p: Planned, finished: Finished): string {
    const item: ConversationItem = { id: this.host.freeItemId(`fco_${p.call.id.slice(0, 40)}`), role: 'tool', text: finished.message, origin: 'text', tool: { kind: 'output', callId: p.call.id } };
    this.host.addItem(item, this.shown(p.tool));
    return item.id;
  }

  /** end_call, alone in its round: answered now; the reply ends here and plays out what it said. */
  private acceptEndCall(p: Planned): null {
    const answer: Finished = { message: END_CALL_ACCEPTED, outcome: 'ok' };
    const outputItemId = this.addOutput(p, answer);
    this.finish(p, p.tool, answer);
    this.endCall = { reason: endCallReason(p.args), callId: p.call.id, outputItemId };
    return null;
  }

  /** The gateway's own tools' items (MCP, built in) are its business unless TOOL_ACTIVITY_DETAIL says otherwise. */
  private shown(tool: OfferedTool | undefined): boolean {
    return tool?.kind === 'client' || tool === undefined || this.host.settings.activityDetail;
  }

  private finish(p: Pick<Planned, 'call' | 'startedAt'>, tool: OfferedTool | undefined, answer: Finished): void {
    if (this.records.some((r) => r.callId === p.call.id)) return;
    const server = tool?.kind === 'server' ? tool.tool.server : undefined;
    const endedAt = performance.now();
    this.records.push({ callId: p.call.id, name: p.call.function.name, kind: tool?.kind ?? 'client', ...(server ? { server } : {}), outcome: answer.outcome, startedAt: p.startedAt, endedAt, arguments: p.call.function.arguments });
    if (tool?.kind === 'server' && answer.outcome !== 'invalid_arguments') {
      const detail = this.host.settings.activityDetail && answer.message ? { arguments: p.call.function.arguments, output: answer.message } : {};
      this.host.emit({ type: 'tool_activity', responseId: this.host.responseId, callId: p.call.id, name: p.call.function.name, server: tool.tool.server, outcome: answer.outcome, durationMs: endedAt - p.startedAt, ...detail });
    }
  }

  /** After an interruption: calls without a result leave the conversation with their items. */
  private dropUnanswered(planned: Planned[], finished: Array<Finished | null>): void {
    planned.forEach((p, i) => {
      if (!finished[i]) this.host.removeItem(p.itemId, this.shown(p.tool));
    });
  }
}

function specOf(tool: OfferedTool): ToolSpec {
  return tool.kind === 'server' ? tool.tool : tool.spec;
}

/** `text` cut to `maxBytes` of UTF-8, saying so. */
function cut(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return `${bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '')} [cut: the result was ${bytes.length} bytes, more than TOOL_RESULT_MAX_BYTES]`;
}
