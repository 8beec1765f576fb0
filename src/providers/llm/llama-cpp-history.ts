/**
 * Our Chat Completions history and tools in node-llama-cpp's terms, and its function calls back.
 *
 * node-llama-cpp keeps one model turn as one `model` item whose response interleaves text and
 * function calls with their results: an assistant message that called tools, the `tool`
 * messages answering it and the assistant text after them are that one item. A history ending in
 * tool results ends in such an item, and `LlamaChat.generateResponse` then continues the model's
 * turn after the results, which is what a next round asks for.
 */
import { randomUUID } from 'node:crypto';
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse } from 'node-llama-cpp';
import type { ChatMessage, ToolCall, ToolChoice, ToolSpec } from '../types.js';
import { gbnfParams, withoutDeclinedOptionals } from './gbnf-params.js';

export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = [];
  /** The model turn still open for results and text (after a message with tool calls). */
  let open: { item: ChatModelResponse; calls: Map<string, ChatModelFunctionCall> } | null = null;
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        open = null;
        items.push({ type: 'system', text: m.content });
        break;
      case 'user':
        open = null;
        items.push({ type: 'user', text: m.content });
        break;
      case 'assistant': {
        const item: ChatModelResponse = open?.item ?? { type: 'model', response: [] };
        if (!open) items.push(item);
        if (m.content) item.response.push(m.content);
        if (m.tool_calls?.length) {
          const calls = new Map<string, ChatModelFunctionCall>();
          for (const [i, call] of m.tool_calls.entries()) {
            const fn: ChatModelFunctionCall = { type: 'functionCall', name: call.function.name, params: parseOr(call.function.arguments), result: '', startsNewChunk: i === 0 };
            item.response.push(fn);
            calls.set(call.id, fn);
          }
          open = { item, calls };
        } else {
          open = null;
        }
        break;
      }
      case 'tool': {
        const fn = open?.calls.get(m.tool_call_id);
        // A result whose call is not in the open turn has nowhere to go in this format.
        if (fn) fn.result = parseOr(m.content);
        break;
      }
    }
  }
  return items;
}

/** The tools as node-llama-cpp functions; none when the choice says no tools (or names one it lacks). */
export function chatFunctions(tools: readonly ToolSpec[] | undefined, choice: ToolChoice | undefined): ChatModelFunctions | undefined {
  if (!tools?.length || choice === 'none') return undefined;
  // A named choice offers only that tool; "required" cannot be forced here and acts as "auto".
  const offered = typeof choice === 'object' ? tools.filter((t) => t.name === choice.name) : tools;
  if (offered.length === 0) return undefined;
  return Object.fromEntries(offered.map((t) => [t.name, { description: t.description, params: gbnfParams(t.parameters) }]));
}

/** node-llama-cpp's calls in the Chat Completions shape, each with an id of our making. */
export function toToolCalls(calls: ReadonlyArray<{ functionName: string; params: unknown }>, tools: readonly ToolSpec[]): ToolCall[] {
  return calls.map((call) => {
    const schema = tools.find((t) => t.name === call.functionName)?.parameters;
    const params = withoutDeclinedOptionals(call.params ?? {}, schema);
    return { id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, type: 'function', function: { name: call.functionName, arguments: JSON.stringify(params) } };
  });
}

/** JSON text as a value (node-llama-cpp shows it to the model as JSON again); other text as is. */
function parseOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
