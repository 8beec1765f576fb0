/** Reading a ChatModel's stream in tests: its text, or everything it yields. */
import type { LlmOutput, ToolCall } from '../../src/providers/types.js';

/** The text pieces of a stream, tool calls skipped. */
export async function* texts(stream: AsyncIterable<LlmOutput>): AsyncGenerator<string> {
  for await (const out of stream) if (out.type === 'text') yield out.text;
}

/** The whole stream: its text pieces and its tool calls, in order. */
export async function outputs(stream: AsyncIterable<LlmOutput>): Promise<{ text: string[]; calls: ToolCall[]; order: Array<'text' | 'tool_call'> }> {
  const text: string[] = [];
  const calls: ToolCall[] = [];
  const order: Array<'text' | 'tool_call'> = [];
  for await (const out of stream) {
    order.push(out.type);
    if (out.type === 'text') text.push(out.text);
    else calls.push(out.call);
  }
  return { text, calls, order };
}
