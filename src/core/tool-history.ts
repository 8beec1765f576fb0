/**
 * The conversation's items as Chat Completions messages, with tool calls kept whole.
 *
 * A tool exchange is an assistant message with `tool_calls` followed at once by one `tool` message
 * per call; LLM servers refuse a call without its result or a result without its call. Items may
 * sit apart (a Realtime client adds an output after other items) or lose their partner (trimming,
 * a deleted item, a reply interrupted before a result came), so the messages are built by pairs:
 * consecutive calls join the assistant message just before them, each call's result follows
 * them wherever its item is, and a call without a result, or a result without a call, is left
 * out with its partner's absence. The items themselves are not changed.
 */
import type { ChatMessage, ToolCall } from '../providers/types.js';
import type { ConversationItem } from './events.js';

export function chatMessages(items: readonly ConversationItem[]): ChatMessage[] {
  const outputs = new Map<string, ConversationItem>();
  for (const item of items) if (item.tool?.kind === 'output') outputs.set(item.tool.callId, item);
  const messages: ChatMessage[] = [];
  let i = 0;
  while (i < items.length) {
    const item = items[i]!;
    if (item.tool?.kind === 'output') {
      i++; // placed after its call
      continue;
    }
    if (item.tool?.kind === 'call' || (item.role === 'assistant' && items[i + 1]?.tool?.kind === 'call')) {
      // An assistant message (maybe empty) and the calls right after it: one message.
      const content = item.tool ? '' : item.text.trim();
      let j = item.tool ? i : i + 1;
      const calls: ToolCall[] = [];
      const results: ChatMessage[] = [];
      for (; j < items.length && items[j]!.tool?.kind === 'call'; j++) {
        const part = items[j]!.tool as Extract<ConversationItem['tool'], { kind: 'call' }>;
        const output = outputs.get(part.callId);
        if (!output) continue; // no result (yet): the call is left out with it
        calls.push({ id: part.callId, type: 'function', function: { name: part.name, arguments: part.arguments } });
        results.push({ role: 'tool', tool_call_id: part.callId, content: output.text });
      }
      if (calls.length > 0) messages.push({ role: 'assistant', content, tool_calls: calls }, ...results);
      else if (content) messages.push({ role: 'assistant', content });
      i = j;
      continue;
    }
    if (item.text.trim() && item.role !== 'tool') messages.push({ role: item.role, content: item.text });
    i++;
  }
  return messages;
}

/** Ids of tool items whose partner is gone (a call with no result item and the reverse). */
export function orphanToolItems(items: readonly ConversationItem[], pendingCallIds: ReadonlySet<string> = new Set()): string[] {
  const calls = new Set<string>();
  const outputs = new Set<string>();
  for (const item of items) {
    if (item.tool?.kind === 'call') calls.add(item.tool.callId);
    if (item.tool?.kind === 'output') outputs.add(item.tool.callId);
  }
  return items
    .filter((item) => {
      if (item.tool?.kind === 'call') return !outputs.has(item.tool.callId) && !pendingCallIds.has(item.tool.callId);
      if (item.tool?.kind === 'output') return !calls.has(item.tool.callId);
      return false;
    })
    .map((item) => item.id);
}
