/**
 * Assembles the tool calls of a streamed Chat Completions reply. Each `delta.tool_calls[]` entry
 * names its call by `index`; the first fragment of a call carries its `id`, `type` and
 * `function.name`, and the arguments arrive as string fragments of JSON, possibly interleaved
 * between calls. They are joined per index and handed over only when the stream ends (the JSON is
 * whole only then). As OpenAI's own SDK does, a later id or name replaces the earlier one and
 * arguments are appended. Servers that send a whole call in one entry without an index (some
 * Ollama versions) get the entry's position as its index.
 */
import { randomUUID } from 'node:crypto';
import type { ToolCall } from '../types.js';

/** One entry of `delta.tool_calls` as servers send it (every field optional in practice). */
export interface ToolCallDelta {
  index?: number;
  id?: string | null;
  type?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

interface Partial {
  id: string;
  name: string;
  arguments: string;
}

/** Bounds that keep a runaway stream from growing a call without end. */
export const MAX_TOOL_CALLS_PER_REPLY = 64;

export class ToolCallAssembler {
  private readonly calls = new Map<number, Partial>();

  constructor(private readonly maxArgumentChars: number) {}

  /** Takes one chunk's `delta.tool_calls`; throws on a reply that is out of bounds. */
  push(deltas: readonly ToolCallDelta[]): void {
    for (const [position, delta] of deltas.entries()) {
      const index = typeof delta.index === 'number' ? delta.index : position;
      let call = this.calls.get(index);
      if (!call) {
        if (this.calls.size >= MAX_TOOL_CALLS_PER_REPLY) throw new RangeError(`the model made more than ${MAX_TOOL_CALLS_PER_REPLY} tool calls in one reply`);
        call = { id: '', name: '', arguments: '' };
        this.calls.set(index, call);
      }
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name = delta.function.name;
      if (delta.function?.arguments) {
        call.arguments += delta.function.arguments;
        if (call.arguments.length > this.maxArgumentChars) {
          throw new RangeError(`the arguments of tool call ${call.name || index} passed ${this.maxArgumentChars} characters`);
        }
      }
    }
  }

  get size(): number {
    return this.calls.size;
  }

  /** The calls in index order; a call without an id gets one, a call without a name is dropped. */
  finish(): ToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, call]) => call.name)
      .map(([, call]) => ({ id: call.id || `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
}
