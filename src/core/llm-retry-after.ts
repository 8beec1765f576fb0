/**
 * Honours an LLM server's Retry-After (HTTP 429 or 5xx with the header): until that moment the
 * session sends it no request and fails the turn at once, with a message that says when to try
 * again, instead of adding to the load of a server that asked for a pause.
 */
import { ProviderError, type ChatMessage, type ChatModel, type LlmOptions, type LlmOutput } from '../providers/types.js';

export class RetryAfterGate {
  /** No request before this moment (Date.now() ms). */
  private blockedUntilMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** `llm`, refusing requests while the server's Retry-After runs and learning new ones. */
  wrap(llm: ChatModel): ChatModel {
    return { stream: (messages, opts, signal) => this.stream(llm, messages, opts, signal) };
  }

  private async *stream(llm: ChatModel, messages: ChatMessage[], opts: LlmOptions, signal: AbortSignal): AsyncGenerator<LlmOutput> {
    const waitMs = this.blockedUntilMs - this.now();
    if (waitMs > 0) {
      const waitS = Math.ceil(waitMs / 1000);
      throw new ProviderError(
        'llm',
        `the language model server asked for a pause (Retry-After): no request is sent to it before ${new Date(this.blockedUntilMs).toISOString()}; try again in ${waitS} s`,
        { retryAfterS: waitS },
      );
    }
    try {
      yield* llm.stream(messages, opts, signal);
    } catch (error) {
      if (error instanceof ProviderError && error.retryAfterS !== undefined && error.retryAfterS > 0) {
        this.blockedUntilMs = Math.max(this.blockedUntilMs, this.now() + error.retryAfterS * 1000);
      }
      throw error;
    }
  }
}
