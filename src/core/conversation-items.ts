/**
 * The conversation as items (add, get, delete, truncate, clear input) and the client events that
 * act on replies by hand (text, respond, cancel, interrupt). Clients with a conversation model
 * (the OpenAI Realtime dialect) use all of them; voice.v1 uses text and interrupt. Every
 * "the client stopped the reply" goes through one path (`Replies.interruptByClient`), and typed
 * text and added items through one (`addMessage`).
 */
import { quoted } from './client-text.js';
import { applySettings } from './settings.js';
import { GatewayError, type ConversationItem, type NewItem, type ServerEvent, type SessionSettings } from './events.js';
import { fixedReply } from './fixed-reply.js';
import { checkAudioEnd, type ConversationHistory } from './history.js';
import type { Replies } from './replies.js';
import type { ReplyTurn } from './reply.js';

export interface ItemHost {
  settings(): SessionSettings;
  send(event: ServerEvent): void;
  sendItemEvent(event: ServerEvent): void;
  /** The id belongs to the user's turn in progress (being spoken, or ended and waiting for its final). */
  turnIdTaken(id: string): boolean;
  /** Drop the user's audio since the last end of turn. */
  clearInput(): void;
}

export interface ItemsSnapshot {
  turnCount: number;
  itemCount: number;
  unanswered: { id: string; text: string } | null;
}

/** The wording of errors about a message's text, by where it came from. */
const TEXT_PROBLEMS = {
  text: { empty: 'text is empty: send the words of the user message', name: 'text' },
  item: { empty: 'the item has no text: send the words of the message', name: "the item's text" },
  say: { empty: 'say has no text: send the words to speak', name: 'say' },
} as const;

export class ConversationItems {
  private turnCount = 0;
  private itemCount = 0;
  /** The last user message that got no reply (autoRespond off, or added as an item), for the next `respond`. */
  private unanswered: ReplyTurn | null = null;

  constructor(
    private readonly history: ConversationHistory,
    private readonly replies: Replies,
    private readonly maxTextChars: number,
    private readonly host: ItemHost,
  ) {}

  /** Counters and the unanswered message, for a snapshot (./session-snapshot.ts). */
  snapshot(): ItemsSnapshot {
    const unanswered = this.unanswered ? { id: this.unanswered.id, text: this.unanswered.text } : null;
    return { turnCount: this.turnCount, itemCount: this.itemCount, unanswered };
  }

  restore(snapshot: ItemsSnapshot): void {
    this.turnCount = snapshot.turnCount;
    this.itemCount = snapshot.itemCount;
    this.unanswered = snapshot.unanswered ? { ...snapshot.unanswered, timings: { turnEndedAt: performance.now() } } : null;
  }

  /** A free id for a new user turn; it is also its item's id, so not one a client gave an item. */
  newTurnId(): string {
    return this.history.freeId(`turn_${++this.turnCount}`);
  }

  /** A spoken turn ended with `text`: its item, its final transcript, and a reply (or it waits for `respond`). */
  userTurnEnded(turn: ReplyTurn): void {
    this.addMessage({ id: turn.id, role: 'user', text: turn.text, origin: 'audio' });
    this.host.send({ type: 'transcript', turnId: turn.id, stability: 'final', text: turn.text });
    this.replyTo(turn);
  }

  /** Typed text: a user turn of its own, answered like a spoken one. */
  text(text: string): void {
    const words = this.checkedText(text, 'text');
    const turn: ReplyTurn = { id: this.newTurnId(), text: words, timings: { turnEndedAt: performance.now() } };
    this.addMessage({ id: turn.id, role: 'user', text: words, origin: 'text' });
    this.host.send({ type: 'transcript', turnId: turn.id, stability: 'final', text: words });
    this.replyTo(turn);
  }

  /**
   * `say`: the agent speaks `text` word for word, without the LLM (a phone call's greeting). It is
   * a reply like any other (./fixed-reply.ts): interrupted, and kept in history as far as heard.
   */
  say(text: string): void {
    const words = this.checkedText(text, 'say');
    this.replies.start({ id: '', text: '', timings: { turnEndedAt: performance.now() } }, undefined, fixedReply(words));
  }

  addItem(item: NewItem, after: string | null | undefined, ref: string | undefined): void {
    if (item.id !== undefined && this.host.turnIdTaken(item.id)) {
      throw new GatewayError('invalid_argument', `id ${quoted(item.id)} is taken by the user's turn in progress: choose another id or leave it out`, 'item_exists');
    }
    if (item.tool) return this.addToolCall(item.tool, item.id, after, ref);
    const text = this.checkedText(item.text, 'item');
    const added = this.addMessage({ id: item.id ?? this.history.freeId(`item_${++this.itemCount}`), role: item.role, text, origin: 'text' }, after, { ref });
    if (added.role === 'user') this.unanswered = { id: added.id, text, timings: { turnEndedAt: performance.now() } };
  }

  /**
   * A tool call the client puts in the conversation (a Realtime `function_call` item, e.g. from a
   * history it restores); its result comes as a tool_result. Until then the LLM does not see it.
   */
  private addToolCall(tool: NonNullable<NewItem['tool']>, id: string | undefined, after: string | null | undefined, ref: string | undefined): void {
    if (this.history.toolItems(tool.callId).call) throw new GatewayError('invalid_argument', `a tool call with call_id ${quoted(tool.callId)} is already in the conversation: give each call its own id`, 'item_exists');
    if (tool.arguments.length > this.maxTextChars * 16) throw new GatewayError('invalid_argument', `the call's arguments are ${tool.arguments.length} characters long: at most ${this.maxTextChars * 16}`);
    this.addMessage({ id: id ?? this.history.freeId(`item_${++this.itemCount}`), role: 'assistant', text: '', origin: 'text', tool }, after, { ref });
  }

  respond(instructions: string | undefined): void {
    const current = this.replies.active;
    if (current) throw new GatewayError('failed_precondition', `reply ${current.id} is still in progress: cancel it or wait for it to end`, 'response_in_progress');
    const checked = instructions === undefined ? undefined : applySettings(this.host.settings(), { instructions }).instructions;
    this.startReply(this.unanswered ?? { id: '', text: '', timings: { turnEndedAt: performance.now() } }, checked);
  }

  /** `interrupt`: stop the current reply, if there is one. */
  interrupt(): void {
    this.replies.interruptByClient();
  }

  /** `cancel`: like interrupt, but an error when no reply (or not `responseId`) is in progress. */
  cancel(responseId: string | undefined): void {
    const current = this.replies.active;
    if (!current || (responseId !== undefined && responseId !== current.id)) {
      throw new GatewayError('failed_precondition', `${responseId ? `reply ${quoted(responseId)} is` : 'no reply is'} in progress: there is nothing to cancel`, 'no_response');
    }
    this.replies.interruptByClient();
  }

  /** Cuts an assistant item to its first `audioEndMs` of audio; a reply still running stops there. */
  truncate(itemId: string, audioEndMs: number, ref: string | undefined): void {
    const current = this.replies.active;
    let text: string;
    if (current?.itemId === itemId) {
      checkAudioEnd(itemId, audioEndMs, current.audioMs);
      // The client stopped playing at audioEndMs: nothing after it will be heard.
      text = this.replies.interruptByClient(audioEndMs)?.heardText ?? '';
    } else {
      text = this.history.truncate(itemId, audioEndMs);
    }
    this.host.sendItemEvent({ type: 'item_truncated', itemId, audioEndMs, text, ref });
  }

  delete(itemId: string, ref: string | undefined): void {
    this.history.delete(itemId);
    this.host.sendItemEvent({ type: 'item_deleted', itemId, ref });
  }

  get(itemId: string, ref: string | undefined): void {
    this.host.sendItemEvent({ type: 'item_retrieved', item: this.history.get(itemId), ref });
  }

  /** Drops the user's audio since the last end of turn: the turn in progress, its words, its early reply. */
  clearInput(ref: string | undefined): void {
    this.host.clearInput();
    this.replies.dropEarly(); // its words were cleared too
    this.host.sendItemEvent({ type: 'input_cleared', ref });
  }

  private checkedText(text: string, from: keyof typeof TEXT_PROBLEMS): string {
    const trimmed = text.trim();
    const problems = TEXT_PROBLEMS[from];
    if (!trimmed) throw new GatewayError('invalid_argument', problems.empty);
    if (trimmed.length > this.maxTextChars) throw new GatewayError('invalid_argument', `${problems.name} is ${trimmed.length} characters long: at most ${this.maxTextChars}`);
    return trimmed;
  }

  /** The one way a message enters the conversation: inserted, and announced to item clients. */
  private addMessage(item: ConversationItem, after?: string | null, answer: { ref?: string } = {}): ConversationItem {
    const previousItemId = this.history.insert(item, after);
    this.host.sendItemEvent({ type: 'item_added', item, previousItemId, ...answer });
    return item;
  }

  /** A reply now, or (autoRespond off) when the client asks with `respond`. */
  private replyTo(turn: ReplyTurn): void {
    if (this.host.settings().turn.autoRespond) this.startReply(turn);
    else this.unanswered = turn;
  }

  private startReply(turn: ReplyTurn, instructions?: string): void {
    this.unanswered = null;
    this.replies.start(turn, instructions);
  }
}
