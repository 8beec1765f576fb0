/**
 * The conversation as the LLM sees it. It keeps what the user heard: an interrupted reply is
 * stored cut to the text whose audio was played.
 */
import type { ChatMessage } from '../providers/types.js';
import { GatewayError, type ConversationItem } from './events.js';
import { chatMessages, orphanToolItems } from './tool-history.js';

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

/** The audio length of a reply's pieces, in ms. */
export function spokenMs(pieces: readonly SpokenPiece[]): number {
  return pieces.reduce((end, p) => Math.max(end, p.startMs + p.durationMs), 0);
}

interface StoredItem extends ConversationItem {
  /** A reply's TTS pieces on its audio timeline, kept so that it can be truncated later. */
  spoken?: readonly SpokenPiece[];
}

const MAX_ITEM_ID_CHARS = 64;

/**
 * The conversation as a list of items with ids, so that item-aware clients (the OpenAI Realtime
 * dialect) can insert, cut and delete messages; the LLM sees the items' texts in order.
 */
export class ConversationHistory {
  private readonly items: StoredItem[] = [];

  constructor(
    /** Oldest items are dropped past this count; the system prompt is never dropped. */
    private readonly maxItems = 200,
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
      throw new GatewayError('invalid_argument', `item id ${JSON.stringify(item.id)} is not accepted: use 1 to ${MAX_ITEM_ID_CHARS} characters`);
    }
    if (this.has(item.id)) throw new GatewayError('invalid_argument', `an item with id "${item.id}" already exists: choose another id or leave it out`, 'item_exists');
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
      throw new GatewayError('invalid_argument', `item "${id}" has no reply audio to truncate: only assistant items that were spoken can be truncated`, 'not_truncatable');
    }
    checkAudioEnd(id, audioEndMs, spokenMs(item.spoken));
    item.text = heardText(item.spoken, audioEndMs);
    return item.text;
  }

  delete(id: string): void {
    this.items.splice(this.indexOf(id), 1);
  }

  /**
   * The messages for an LLM request, the system prompt first; items with no text are left out,
   * and tool calls only with their results (tool-history.ts).
   */
  forRequest(systemPrompt: string): ChatMessage[] {
    const system: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
    return [...system, ...chatMessages(this.items)];
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

  get length(): number {
    return this.items.length;
  }

  private indexOf(id: string): number {
    const at = this.items.findIndex((item) => item.id === id);
    if (at < 0) throw new GatewayError('invalid_argument', `no item has id "${id}" in this conversation`, 'item_not_found');
    return at;
  }

  private find(id: string): StoredItem {
    return this.items[this.indexOf(id)]!;
  }
}

/** audio_end_ms past the reply's audio is an error; a rounding millisecond is not. */
export function checkAudioEnd(id: string, audioEndMs: number, totalMs: number): void {
  if (!Number.isFinite(audioEndMs) || audioEndMs < 0 || audioEndMs > Math.ceil(totalMs)) {
    throw new GatewayError('invalid_argument', `audio_end_ms ${audioEndMs} is out of range for item "${id}": its audio lasts ${Math.ceil(totalMs)} ms`, 'audio_end_out_of_range');
  }
}
