/**
 * One Realtime connection: JSON text frames in, each read into a core client event (with a ref
 * so that the core's answer or error finds its way back); the session's events out, each written
 * as the Realtime events it stands for. A frame that is wrong gets an `error` event and the socket
 * stays open; only a session that ends closes it.
 */
import { WebSocket, type RawData } from 'ws';
import type { ClientEvent } from '../../core/events.js';
import type { Session } from '../../core/session.js';
import { pumpEvents } from '../event-pump.js';
import { CLOSE, closeCodeFor, closeWithin } from '../websocket-close.js';
import { webSocketSink } from '../websocket-sink.js';
import { readClientEvent, type EventContext } from './client-events.js';
import { initialPatch, type Dialect } from './session-config.js';
import { RealtimeEventWriter } from './server-events.js';
import { WireError } from './wire-error.js';

/** Error replies to bad frames bypass the session's queue; a client that sends bad frames without reading is cut off past this. */
const ERROR_REPLY_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Answers awaited at once (one per session.update, item edit ...): far above what a client has in flight. */
const MAX_PENDING_ANSWERS = 4096;
/** Client event ids kept for errors of events that get no answer when they succeed. */
const MAX_REMEMBERED_EVENT_IDS = 256;
/** Events the core answers (or fails) exactly once: their context waits for that answer. */
const ANSWERED = new Set(['update', 'add_item', 'truncate', 'delete_item', 'get_item', 'clear_input', 'tool_result']);

export interface RealtimeConnectionOptions {
  dialect: Dialect;
  model: string;
  maxMessageBytes: number;
  closeGraceMs: number;
}

export function serveRealtime(ws: WebSocket, session: Session, options: RealtimeConnectionOptions): void {
  const contexts = new EventContexts();
  const writer = new RealtimeEventWriter(options.dialect, options.model, (ref) => contexts.take(ref));
  ws.on('error', () => undefined); // the 'close' that follows ends the session
  // Realtime replies end at the client's tool calls; its function_call_output and response.create go on.
  session.handle({ type: 'start', settings: initialPatch(), metadata: { transport: 'openai-realtime', dialect: options.dialect, model: options.model }, itemEvents: true, toolCallsEndReply: true });

  const reply = (error: WireError, clientEventId?: string) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > ERROR_REPLY_MAX_BUFFERED_BYTES) {
      ws.close(CLOSE.policyViolation, 'too many invalid events while not reading the replies');
      return;
    }
    ws.send(JSON.stringify(writer.error(error, clientEventId)));
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = textOf(data);
    if (isBinary) {
      return reply(new WireError('invalid_request_error', 'invalid_value', 'a binary frame came: send each event as one JSON text frame (audio goes base64 in input_audio_buffer.append)'));
    }
    if (bytes.length > options.maxMessageBytes) {
      return reply(
        new WireError('invalid_request_error', 'message_too_large', `the event is ${bytes.length} bytes: at most ${options.maxMessageBytes} (MAX_MESSAGE_BYTES); append audio in chunks of 20 to 100 ms`),
      );
    }
    const read = readClientEvent(bytes.toString('utf8'), options.dialect);
    if (!read.ok) return reply(read.error, read.clientEventId);
    const ref = contexts.add(read.event.type, read.context);
    const event: ClientEvent = { ...read.event, ...(ref === undefined ? {} : { ref }) };
    session.handle(event);
  });
  ws.on('close', (code: number) => {
    if (code === CLOSE.normal || code === CLOSE.goingAway) session.end();
    else session.close(`the WebSocket closed with code ${code}`, 'client_gone');
  });
  void pump(ws, session, writer, options.closeGraceMs);
}

async function pump(ws: WebSocket, session: Session, writer: RealtimeEventWriter, closeGraceMs: number): Promise<void> {
  const sink = webSocketSink(ws, (event) => writer.map(event).map((wire) => JSON.stringify(wire)));
  const end = await pumpEvents(session, sink, { closeGraceMs });
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') return closeWithin(ws, CLOSE.policyViolation, session.closeReason ?? 'the client stopped reading', closeGraceMs);
  closeWithin(ws, closeCodeFor(end.last, session.closeCause), session.closeReason ?? 'the session ended', closeGraceMs);
}

function textOf(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}

/**
 * Contexts of client events until the core answers them. Events that are always answered wait
 * for that answer; others are kept only for their event_id (an error echoes it), the oldest
 * forgotten first.
 */
class EventContexts {
  private readonly pending = new Map<string, EventContext>();
  private readonly remembered = new Map<string, EventContext>();
  private sequence = 0;

  /** The ref for a core event of `type`, or undefined when nothing needs to come back to it. */
  add(type: string, context: EventContext): string | undefined {
    const answered = ANSWERED.has(type);
    if (!answered && context.clientEventId === undefined) return undefined;
    const ref = String(++this.sequence);
    const map = answered ? this.pending : this.remembered;
    map.set(ref, context);
    const max = answered ? MAX_PENDING_ANSWERS : MAX_REMEMBERED_EVENT_IDS;
    if (map.size > max) map.delete(map.keys().next().value!);
    return ref;
  }

  take(ref: string | undefined): EventContext | undefined {
    if (ref === undefined) return undefined;
    const context = this.pending.get(ref) ?? this.remembered.get(ref);
    this.pending.delete(ref);
    this.remembered.delete(ref);
    return context;
  }
}
