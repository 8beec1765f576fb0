/**
 * The conversation as the LLM sees it. It keeps what the user heard: an interrupted reply is
 * stored cut to the text whose audio was played.
 */
import type { ChatMessage, WordTiming } from '../providers/types.js';
import { GatewayError, type ConversationItem } from './events.js';
import { quoted } from './client-text.js';
import { chatMessages, orphanToolItems } from './tool-history.js';
import { wordStarts, wordsHeard as timedWordsHeard } from './word-timeline.js';

/** One TTS piece of a reply, placed on the reply's audio timeline. */
export interface SpokenPiece {
  text: string;
  startMs: number;
  /** Audio of it sent so far. */
  durationMs: number;
  /** TTS has sent all of its audio. */
  complete: boolean;
  /** Word timings the TTS reported for it (ms from the piece's start); absent: it reports none. */
  words?: WordTiming[];
}

/** A typical speaking rate, for a piece whose audio is not all there yet. */
const DEFAULT_MS_PER_CHAR = 65;

/**
 * The text a listener heard after `heardMs` of the reply's audio: whole pieces that ended before
 * it, plus the words of the piece playing then. Where the TTS reported word timings, those whose
 * audio was played to its end (./word-timeline.ts); else in proportion to the time played, cut
 * at a word boundary, and `estimated` says so. A piece still being synthesized is measured by the
 * speaking rate of the pieces before it.
 */
export function heardCut(pieces: readonly SpokenPiece[], heardMs: number): { text: string; estimated: boolean } {
  const playing = pieces.find((p) => heardMs < p.startMs + (p.complete ? p.durationMs : Infinity));
  const estimated = playing !== undefined && heardMs > playing.startMs && playing.words === undefined;
  return { text: heardText(pieces, heardMs), estimated };
}

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
      const words = piece.text.split(/\s+/).filter(Boolean);
      const wordsHeard = piece.words
        ? timedWordsHeard(wordStarts(piece.text, piece.words), heardMs - piece.startMs, piece.durationMs, piece.complete)
        : Math.floor(words.length * ((heardMs - piece.startMs) / durationMs));
      if (wordsHeard > 0) parts.push(words.slice(0, wordsHeard).join(' '));
    }
    break;
  }
  return parts.join(' ');
}

/** The audio length of a reply's pieces, in ms. */
export function spokenMs(pieces: readonly SpokenPiece[]): number {
  return pieces.reduce((end, p) => Math.max(end, p.startMs + p.durationMs), 0);
}

export interface StoredItem extends ConversationItem {
  /** A reply's TTS pieces on its audio timeline, kept so that it can be truncated later. */
  spoken?: readonly SpokenPiece[];
}

const MAX_ITEM_ID_CHARS = 64;

/**
 * Tokens of `messages` as the LLM would count them, estimated without its tokenizer: 4 characters
 * a token (the usual figure for English with BPE tokenizers such as Llama 3's and OpenAI's) plus
 * 4 tokens a message for the chat template's role markers. Other languages take more tokens per
 * character, so leave LLM_CONTEXT_TOKENS some room below the model's context.
 */
export function estimateTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((tokens, m) => tokens + MESSAGE_OVERHEAD_TOKENS + Math.ceil(charsOf(m) / CHARS_PER_TOKEN), 0);
}

/** A message's characters, a tool call's name and arguments included. */
function charsOf(m: ChatMessage): number {
  const calls = m.role === 'assistant' ? (m.tool_calls ?? []) : [];
  return m.content.length + calls.reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
}
const CHARS_PER_TOKEN = 4;
const MESSAGE_OVERHEAD_TOKENS = 4;

/** An LLM request as the history renders it, and what was left out to fit the context. */
export interface LlmRequest {
  messages: ChatMessage[];
  /** Set when the oldest turns were dropped to fit `contextTokens`. */
  trimmed?: HistoryTrimmed;
}
export interface HistoryTrimmed {
  droppedMessages: number;
  /** The estimate (estimateTokens) of what was sent. */
  estimatedTokens: number;
}

/**
 * The conversation as a list of items with ids, so that item-aware clients (the OpenAI Realtime
 * dialect) can insert, cut and delete messages; the LLM sees the items' texts in order.
 */
export class ConversationHistory {
  private readonly items: StoredItem[] = [];

  constructor(
    /** Oldest items are dropped past this count; the system prompt is never dropped. */
    readonly maxItems = 200,
  ) {}

  has(id: string): boolean {
    return this.items.some((item) => item.id === id);
  }

  /** `base` if no item has it, else `base_2`, `base_3`, ... (clients may choose ids too). */
  freeId(base: string): string {
    let id = base;
    for (let n = 2; this.has(id); n++) id = `${base}_${n}`;
    return id;
  }

  /** A copy of the item (without its audio timeline). */
  get(id: string): ConversationItem {
    const { spoken: _spoken, ...item } = this.find(id);
    return item;
  }

  /**
   * Adds an item after the item `after` (null: first; undefined: last) and returns the id of the
   * item before it (null when it is first).
   */
  insert(item: ConversationItem, after?: string | null): string | null {
    if (!item.id || item.id.length > MAX_ITEM_ID_CHARS) {
      throw new GatewayError('invalid_argument', `item id ${quoted(item.id)} is not accepted: use 1 to ${MAX_ITEM_ID_CHARS} characters`);
    }
    if (this.has(item.id)) throw new GatewayError('invalid_argument', `an item with id ${quoted(item.id)} already exists: choose another id or leave it out`, 'item_exists');
    const at = after === undefined ? this.items.length : after === null ? 0 : this.indexOf(after) + 1;
    this.items.splice(at, 0, { ...item });
    const previous = at > 0 ? this.items[at - 1]!.id : null;
    if (this.items.length > this.maxItems) {
      this.items.splice(0, this.items.length - this.maxItems);
      // A tool result whose call was cut goes with it: never half an exchange.
      const calls = new Set(this.items.flatMap((i) => (i.tool?.kind === 'call' ? [i.tool.callId] : [])));
      for (let k = this.items.length - 1; k >= 0; k--) {
        const tool = this.items[k]!.tool;
        if (tool?.kind === 'output' && !calls.has(tool.callId)) this.items.splice(k, 1);
      }
    }
    return previous;
  }

  /** Sets an item's text, and for a reply the audio timeline its text was heard on. */
  setText(id: string, text: string, spoken?: readonly SpokenPiece[]): void {
    if (!this.has(id)) return; // dropped past maxItems or deleted meanwhile
    const item = this.find(id);
    item.text = text;
    if (spoken) item.spoken = spoken;
  }

  /** Cuts an assistant item to what was heard in its first `audioEndMs` of audio; returns the text. */
  truncate(id: string, audioEndMs: number): string {
    const item = this.find(id);
    if (item.role !== 'assistant' || !item.spoken) {
      throw new GatewayError('invalid_argument', `item ${quoted(id)} has no reply audio to truncate: only assistant items that were spoken can be truncated`, 'not_truncatable');
    }
    checkAudioEnd(id, audioEndMs, spokenMs(item.spoken));
    item.text = heardText(item.spoken, audioEndMs);
    return item.text;
  }

  delete(id: string): void {
    this.items.splice(this.indexOf(id), 1);
  }

  /**
   * The LLM request: the system prompt first, then the items with text, at most `contextTokens`
   * (estimateTokens) by dropping the oldest turns. `pendingUserText`: the request as it will be
   * once the user's words are added as an item (a speculative start asks for it before the turn
   * ended), rendered exactly as the due request will be, item bound included.
   */
  request(systemPrompt: string, contextTokens: number, pendingUserText?: string): LlmRequest {
    const pending: StoredItem[] = pendingUserText === undefined ? [] : [{ id: '', role: 'user', text: pendingUserText, origin: 'audio' }];
    const items = [...this.items, ...pending].slice(-this.maxItems);
    const system: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
    // Tool calls only with their results, together (tool-history.ts).
    const turns = chatMessages(items);
    let droppedMessages = 0;
    let tokens = estimateTokens(system) + estimateTokens(turns);
    // The oldest turn goes whole (its user message and the replies after it, tool calls and their
    // results included), so that what is left starts with a user message.
    while (turns.length > 1 && tokens > contextTokens) {
      do {
        tokens -= estimateTokens(turns.splice(0, 1));
        droppedMessages++;
      } while (turns.length > 1 && turns[0]!.role !== 'user');
    }
    const messages = [...system, ...turns];
    return droppedMessages > 0 ? { messages, trimmed: { droppedMessages, estimatedTokens: estimateTokens(messages) } } : { messages };
  }

  /** The ids of tool items whose partner is gone (pending calls aside). */
  orphans(pendingCallIds?: ReadonlySet<string>): string[] {
    return orphanToolItems(this.items, pendingCallIds);
  }

  /** The item of tool call `callId` and of its result, if they are here. */
  toolItems(callId: string): { call?: ConversationItem; output?: ConversationItem } {
    const find = (kind: 'call' | 'output') => this.items.find((i) => i.tool?.kind === kind && i.tool.callId === callId);
    return { call: find('call'), output: find('output') };
  }

  /**
   * The items as plain data for a snapshot (./session-snapshot.ts): every field of every item,
   * whatever kind it is, so that kinds added later (tool exchanges) ride along unchanged.
   */
  snapshot(): StoredItem[] {
    return structuredClone(this.items);
  }

  /** The items of a snapshot, in place of these. */
  restore(items: readonly StoredItem[]): void {
    this.items.splice(0, this.items.length, ...structuredClone(items).slice(-this.maxItems));
  }

  get length(): number {
    return this.items.length;
  }

  private indexOf(id: string): number {
    const at = this.items.findIndex((item) => item.id === id);
    if (at < 0) throw new GatewayError('invalid_argument', `no item has id ${quoted(id)} in this conversation`, 'item_not_found');
    return at;
  }

  private find(id: string): StoredItem {
    return this.items[this.indexOf(id)]!;
  }
}

/** audio_end_ms past the reply's audio is an error; a rounding millisecond is not. */
export function checkAudioEnd(id: string, audioEndMs: number, totalMs: number): void {
  if (!Number.isFinite(audioEndMs) || audioEndMs < 0 || audioEndMs > Math.ceil(totalMs)) {
    throw new GatewayError('invalid_argument', `audio_end_ms ${audioEndMs} is out of range for item ${quoted(id)}: its audio lasts ${Math.ceil(totalMs)} ms`, 'audio_end_out_of_range');
  }
}
