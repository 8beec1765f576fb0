/**
 * Contexts of client events until the core answers them: the client's event_id (echoed in an
 * error), the field a core error concerns, a session.update's protocol-only fields. Events that
 * are always answered wait for that answer; others are kept only for their event_id, the oldest
 * forgotten first.
 *
 * Bounded in bytes, not only in count: a client that sends events without reading the answers
 * makes the connection keep their contexts (up to 4,096 session.update contexts of about 1 MiB
 * each, before their fields were bounded). Past `maxBytes` the next answered event is refused.
 */
import { ANSWERED_CLIENT_EVENTS, type ClientEvent } from '../../core/events.js';
import { byteSizeOf } from '../../lib/byte-size.js';
import type { EventContext } from './client-events.js';

/** Answers awaited at once (one per session.update, item edit ...): far above what a client has in flight. */
const MAX_PENDING_ANSWERS = 4096;
/** Client event ids kept for errors of events that get no answer when they succeed. */
const MAX_REMEMBERED_EVENT_IDS = 256;

export class EventContexts {
  private readonly pending = new Map<string, { context: EventContext; bytes: number }>();
  private readonly remembered = new Map<string, { context: EventContext; bytes: number }>();
  private sequence = 0;
  private heldBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes of contexts held now. */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * The ref for a core event of `type` (undefined when nothing needs to come back to it), or null
   * when the connection already holds `maxBytes` of contexts and the event must be refused.
   */
  add(type: string, context: EventContext): { ref: string | undefined } | null {
    const answered = ANSWERED_CLIENT_EVENTS.has(type as ClientEvent['type']);
    if (!answered && context.clientEventId === undefined) return { ref: undefined };
    const bytes = byteSizeOf(context);
    if (this.heldBytes + bytes > this.maxBytes) {
      return answered ? null : { ref: undefined }; // unanswered: only its event_id is lost from a later error
    }
    const ref = String(++this.sequence);
    const map = answered ? this.pending : this.remembered;
    map.set(ref, { context, bytes });
    this.heldBytes += bytes;
    const max = answered ? MAX_PENDING_ANSWERS : MAX_REMEMBERED_EVENT_IDS;
    if (map.size > max) this.forget(map, map.keys().next().value!);
    return { ref };
  }

  take(ref: string | undefined): EventContext | undefined {
    if (ref === undefined) return undefined;
    return this.forget(this.pending, ref) ?? this.forget(this.remembered, ref);
  }

  private forget(map: Map<string, { context: EventContext; bytes: number }>, ref: string): EventContext | undefined {
    const entry = map.get(ref);
    if (!entry) return undefined;
    map.delete(ref);
    this.heldBytes -= entry.bytes;
    return entry.context;
  }
}
