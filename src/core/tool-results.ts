/**
 * The session's client tool calls and the results clients send for them (`tool_result`).
 *
 * - A call a reply waits for (voice.v1: the reply goes on with the result) is pending here until
 *   its result, its timeout or its reply's end. A cancelled call is remembered, so that a result
 *   that comes after it is acknowledged (`tool_call_cancelled` with resultIgnored) and ignored.
 * - A call that ended its reply (the OpenAI Realtime way) is answered by adding its output item
 *   to the conversation, after the call's item; the next `respond` sends both to the LLM.
 * - Anything else is a clear error that changes nothing: a call id nobody made, one already
 *   answered, a result over TOOL_RESULT_MAX_BYTES (the call still waits for a shorter one).
 */
import { GatewayError, type ServerEvent, type ToolCancelReason } from './events.js';
import type { ConversationHistory } from './history.js';

export type ClientResult = { output: string; isError: boolean };

type ToolCallEvent = Extract<ServerEvent, { type: 'tool_call' }>;

interface Pending {
  responseId: string;
  /** The call as the client was sent it: sent again when the client comes back (a resume). */
  call: ToolCallEvent;
  resolve: (result: ClientResult) => void;
  reject: (reason: ToolCancelReason) => void;
}

/** Ids of finished calls remembered, so that a late or repeated result is recognized. */
const REMEMBERED_CALLS = 256;

/** The core's result event, as the session hands it over. */
export interface ToolResultIn {
  callId: string;
  output: string;
  isError?: boolean;
  itemId?: string;
  after?: string | null;
  ref?: string;
}

export interface ToolResultHost {
  send(event: ServerEvent): void;
  sendItemEvent(event: ServerEvent): void;
}

export class ToolResults {
  private readonly pending = new Map<string, Pending>();
  private readonly cancelled = new Map<string, { responseId: string; reason: ToolCancelReason }>();
  private readonly answered = new Set<string>();
  private outputCount = 0;

  constructor(
    private readonly history: ConversationHistory,
    private readonly resultMaxBytes: number,
    private readonly host: ToolResultHost,
  ) {}

  /**
   * Waits for the client's result of `call`. Rejects with the cancel reason when `cancel` is
   * called for it (the reply ended, or its timeout passed).
   */
  expect(call: ToolCallEvent): Promise<ClientResult> {
    return new Promise((resolve, reject) => this.pending.set(call.callId, { responseId: call.responseId, call, resolve, reject }));
  }

  /**
   * The calls still waiting for a result, in the order they were made: a client whose connection
   * dropped may never have received them, so a resume sends them again (the client answers each
   * call id once; a second result is refused as already answered).
   */
  pendingCalls(): ToolCallEvent[] {
    return [...this.pending.values()].map((p) => p.call);
  }

  /** The call is not wanted any more: the client is told, a later result is acknowledged and ignored. */
  cancel(callId: string, reason: ToolCancelReason): void {
    const pending = this.pending.get(callId);
    if (!pending) return;
    this.pending.delete(callId);
    remember(this.cancelled, callId, { responseId: pending.responseId, reason });
    this.host.send({ type: 'tool_call_cancelled', responseId: pending.responseId, callId, reason });
    pending.reject(reason);
  }

  /**
   * A call this process never waited for (it was made where a restored session was saved) will
   * not be: the client is told, a later result is acknowledged and ignored.
   */
  cancelLost(callId: string, responseId: string, reason: ToolCancelReason): void {
    remember(this.cancelled, callId, { responseId, reason });
    this.host.send({ type: 'tool_call_cancelled', responseId, callId, reason });
  }

  /** A `tool_result` from the client. */
  result(event: ToolResultIn): void {
    const { callId } = event;
    const bytes = Buffer.byteLength(event.output);
    if (bytes > this.resultMaxBytes) {
      throw new GatewayError('invalid_argument', `the result of tool call "${callId.slice(0, 80)}" is ${bytes} bytes: at most ${this.resultMaxBytes} (TOOL_RESULT_MAX_BYTES); the call still waits for a shorter result`);
    }
    const pending = this.pending.get(callId);
    if (pending) {
      this.pending.delete(callId);
      this.markAnswered(callId);
      pending.resolve({ output: event.output, isError: event.isError ?? false });
      return;
    }
    const cancelled = this.cancelled.get(callId);
    if (cancelled) {
      this.host.send({ type: 'tool_call_cancelled', responseId: cancelled.responseId, callId, reason: cancelled.reason, resultIgnored: true, ...(event.ref === undefined ? {} : { ref: event.ref }) });
      return;
    }
    const { call, output } = this.history.toolItems(callId);
    if (output || this.answered.has(callId)) {
      throw new GatewayError('invalid_argument', `tool call "${callId.slice(0, 80)}" was already answered: send one result per call`);
    }
    if (!call) throw new GatewayError('invalid_argument', `no tool call has id "${callId.slice(0, 80)}": answer the call_id of a tool_call this session sent`);
    // A call its reply ended with: the result becomes the conversation's next item after it.
    const item = { id: event.itemId ?? this.history.freeId(`tool_output_${++this.outputCount}`), role: 'tool' as const, text: event.output, origin: 'text' as const, tool: { kind: 'output' as const, callId } };
    const previousItemId = this.history.insert(item, event.after === undefined ? undefined : event.after);
    this.markAnswered(callId);
    this.host.sendItemEvent({ type: 'item_added', item, previousItemId, ...(event.ref === undefined ? {} : { ref: event.ref }) });
  }

  /** The session ends: nothing is waited for any more. */
  close(): void {
    for (const [callId, pending] of this.pending) {
      this.pending.delete(callId);
      pending.reject('superseded');
    }
  }

  private markAnswered(callId: string): void {
    this.answered.add(callId);
    if (this.answered.size > REMEMBERED_CALLS) this.answered.delete(this.answered.values().next().value!);
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  if (map.size > REMEMBERED_CALLS) map.delete(map.keys().next().value!);
}
