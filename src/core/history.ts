/**
 * The conversation as the LLM sees it. It keeps what the user heard: an interrupted reply is
 * stored cut to the text whose audio was played.
 */
import type { ChatMessage } from '../providers/types.js';

/** One TTS piece of a reply, placed on the reply's audio timeline. */
export interface SpokenPiece {
  text: string;
  startMs: number;
  /** Audio of it sent so far. */
  durationMs: number;
  /** TTS has sent all of its audio. */
  complete: boolean;
}

/** A typical speaking rate, for a piece whose audio is not all there yet. */
const DEFAULT_MS_PER_CHAR = 65;

/**
 * The text a listener heard after `heardMs` of the reply's audio: whole pieces that ended before
 * it, plus the words of the piece playing then in proportion to the time played (no word timings
 * from TTS, so proportional is the honest estimate), cut at a word boundary. A piece still being
 * synthesized is measured by the speaking rate of the pieces before it.
 */
export function heardText(pieces: readonly SpokenPiece[], heardMs: number): string {
  const done = pieces.filter((p) => p.complete);
  const doneChars = done.reduce((n, p) => n + p.text.length, 0);
  const msPerChar = doneChars > 0 ? done.reduce((n, p) => n + p.durationMs, 0) / doneChars : DEFAULT_MS_PER_CHAR;
  const parts: string[] = [];
  for (const piece of pieces) {
    const durationMs = piece.complete ? piece.durationMs : Math.max(piece.durationMs, piece.text.length * msPerChar);
    if (heardMs >= piece.startMs + durationMs) {
      parts.push(piece.text);
      continue;
    }
    if (heardMs > piece.startMs && durationMs > 0) {
      const fraction = (heardMs - piece.startMs) / durationMs;
      const words = piece.text.split(/\s+/).filter(Boolean);
      const wordsHeard = Math.floor(words.length * fraction);
      if (wordsHeard > 0) parts.push(words.slice(0, wordsHeard).join(' '));
    }
    break;
  }
  return parts.join(' ');
}

export class ConversationHistory {
  private readonly messages: ChatMessage[] = [];

  constructor(
    /** Oldest messages are dropped past this count; the system prompt is never dropped. */
    private readonly maxMessages = 200,
  ) {}

  addUser(text: string): void {
    this.push({ role: 'user', content: text });
  }

  /** Adds what the user heard of a reply (nothing when they heard nothing); returns its index or -1. */
  addAssistant(heard: string): number {
    if (!heard.trim()) return -1;
    this.push({ role: 'assistant', content: heard });
    return this.messages.length - 1;
  }

  /** Corrects an assistant message, e.g. when a late playback report shows less was heard. */
  setContent(index: number, content: string): void {
    const message = this.messages[index];
    if (message?.role === 'assistant') message.content = content;
  }

  /** The messages for an LLM request, the system prompt first. */
  forRequest(systemPrompt: string): ChatMessage[] {
    const system: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
    return [...system, ...this.messages];
  }

  get length(): number {
    return this.messages.length;
  }

  private push(message: ChatMessage): void {
    this.messages.push(message);
    if (this.messages.length > this.maxMessages) this.messages.splice(0, this.messages.length - this.maxMessages);
  }
}
