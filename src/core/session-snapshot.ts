/**
 * A session as data, and back: what a resume needs (docs/architecture.md, "Resume"). Text and
 * ids only, never audio: the history's items whole (whatever their kind), the settings, the
 * counters that make ids, the reply in progress (its pieces on the audio timeline and what the
 * client reported played) and the words of the turn the user was speaking. Each part has its own
 * pair (`snapshot`/`restore` on ConversationHistory, ConversationItems, Replies, UserTurns); this
 * file puts them together, so the session class only calls in.
 */
import type { ServerEvent, SessionSettings } from './events.js';
import type { ConversationHistory, StoredItem } from './history.js';
import type { ConversationItems, ItemsSnapshot } from './conversation-items.js';
import type { Replies, RepliesSnapshot } from './replies.js';
import type { UserTurns } from './user-turns.js';
import { settleLostToolCalls } from './tool-resume.js';

export const SNAPSHOT_VERSION = 1;

/** Events after which a snapshot differs in what a resume needs: the session reports a checkpoint. */
export const CHECKPOINT_EVENTS = new Set<ServerEvent['type']>(['ready', 'response_started', 'response_text', 'response_done', 'item_added', 'item_deleted', 'item_truncated', 'settings_updated', 'tool_call', 'tool_call_cancelled', 'tool_activity']);

/** Where the client had played the reply that was playing when its connection dropped. */
export interface PlayedPosition {
  responseId: string;
  playedMs: number;
}

export interface SessionSnapshot {
  v: typeof SNAPSHOT_VERSION;
  sessionId: string;
  /** When the session opened (ms since the epoch): its maximum duration counts from there. */
  openedAtMs: number;
  settings: SessionSettings;
  itemEvents: boolean;
  /** Replies end at the client's tool calls (start.toolCallsEndReply, the Realtime way). */
  toolCallsEndReply?: boolean;
  history: StoredItem[];
  items: ItemsSnapshot;
  replies: RepliesSnapshot;
  /** The turn the user was speaking, with the words recognized so far. */
  pendingTurn: { id: string; text: string } | null;
}

/** The parts of a session a snapshot is made of. */
export interface SnapshotParts {
  id: string;
  openedAtMs: number;
  settings: SessionSettings;
  itemEvents: boolean;
  history: ConversationHistory;
  items: ConversationItems;
  replies: Replies;
  listening: UserTurns | null;
}

export function snapshotOf(parts: SnapshotParts): SessionSnapshot {
  return {
    v: SNAPSHOT_VERSION,
    sessionId: parts.id,
    openedAtMs: parts.openedAtMs,
    settings: parts.settings,
    itemEvents: parts.itemEvents,
    toolCallsEndReply: parts.replies.tools.callsEndReply,
    history: parts.history.snapshot(),
    items: parts.items.snapshot(),
    replies: parts.replies.snapshot(),
    pendingTurn: parts.listening?.snapshot() ?? null,
  };
}

/** The snapshot of session `sessionId` in `data`, or an error saying what is wrong with it. */
export function readSnapshot(data: unknown, sessionId: string): SessionSnapshot {
  const snapshot = data as Partial<SessionSnapshot> | null;
  if (!snapshot || typeof snapshot !== 'object' || snapshot.v !== SNAPSHOT_VERSION) {
    throw new Error(`the saved session has version ${JSON.stringify(snapshot?.v)}: this gateway reads version ${SNAPSHOT_VERSION}`);
  }
  if (snapshot.sessionId !== sessionId || !Array.isArray(snapshot.history) || !snapshot.settings || !snapshot.items || !snapshot.replies) {
    throw new Error('the saved session is incomplete');
  }
  return snapshot as SessionSnapshot;
}

/**
 * After a restored session's `ready`: tool calls still without a result are cancelled
 * (./tool-resume.ts), the reply that was in progress where it was saved ends interrupted at what
 * the client played (its LLM stream is gone), and the turn the user was speaking ends with the
 * words recognized, and is answered.
 */
export function endCutOff(parts: Pick<SnapshotParts, 'items' | 'replies' | 'history'>, snapshot: SessionSnapshot, played: PlayedPosition | undefined): void {
  const lost = snapshot.replies.active;
  settleLostToolCalls(parts.history, parts.replies.tools, snapshot.settings, lost?.id);
  if (lost) parts.replies.endLost(lost, played?.responseId === lost.id ? played.playedMs : undefined);
  const spoken = snapshot.pendingTurn;
  if (spoken?.text) parts.items.userTurnEnded({ id: spoken.id, text: spoken.text, timings: { turnEndedAt: performance.now() } });
}

/** The conversation parts of `snapshot`, in place of those of a session not yet started. */
export function restoreParts(parts: Pick<SnapshotParts, 'history' | 'items' | 'replies'>, snapshot: SessionSnapshot): void {
  parts.history.restore(snapshot.history);
  parts.items.restore(snapshot.items);
  parts.replies.restore(snapshot.replies);
  parts.replies.tools.callsEndReply = snapshot.toolCallsEndReply ?? false;
}
