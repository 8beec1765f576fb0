/**
 * A ChatModel that answers with given words: a reply the session speaks as written (the `say`
 * event, e.g. a phone call's greeting) runs through the same Reply (./reply.ts) as any other, so it is
 * split, synthesized, interrupted and cut to what was heard like an LLM's reply.
 */
import type { ChatModel } from '../providers/types.js';

export function fixedReply(text: string): ChatModel {
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- the interface is an async iterable
    async *stream(_messages, _opts, signal) {
      if (!signal.aborted) yield { type: 'text', text };
    },
  };
}
