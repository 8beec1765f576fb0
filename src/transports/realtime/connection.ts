/**
 * One Realtime connection: JSON text frames in, each read into a core client event (with a ref
 * so that the core's answer or error finds its way back); the session's events out, each written
 * as the Realtime events it stands for. A frame that is wrong gets an `error` event and the socket
 * stays open; only a session that ends closes it.
 */
import { WebSocket, type RawData } from 'ws';
import type { ClientEvent } from '../../core/events.js';
import type { SessionPort } from '../../core/session-port.js';
import { pumpEvents } from '../event-pump.js';
import { CLOSE, closeCodeFor, closeWithin } from '../websocket-shared/close.js';
import { webSocketSink } from '../websocket-shared/sink.js';
import { readClientEvent } from './client-events.js';
import { EventContexts } from './event-contexts.js';
import { initialPatch, type Dialect } from './session-config.js';
import { RealtimeEventWriter } from './server-events.js';
import { WireError } from './wire-error.js';
import { bufferOf } from '../websocket-shared/raw-data.js';

/** Error replies to bad frames bypass the session's queue; a client that sends bad frames without reading is cut off past this. */
const ERROR_REPLY_MAX_BUFFERED_BYTES = 1024 * 1024;

export interface RealtimeConnectionOptions {
  dialect: Dialect;
  model: string;
  maxMessageBytes: number;
  /** Bytes of client events kept while they wait for their answers (REALTIME_PENDING_ANSWERS_MAX_BYTES). */
  pendingAnswersMaxBytes: number;
  closeGraceMs: number;
  /** Extension: the session continues that of this token (src/resume). */
  resumeToken?: string;
}

export function serveRealtime(ws: WebSocket, session: SessionPort, options: RealtimeConnectionOptions): void {
  const contexts = new EventContexts(options.pendingAnswersMaxBytes);
  const writer = new RealtimeEventWriter(options.dialect, options.model, (ref) => contexts.take(ref));
  ws.on('error', () => undefined); // the 'close' that follows ends the session
  const metadata = { transport: 'openai-realtime', dialect: options.dialect, model: options.model };
  // Realtime replies end at the client's tool calls; its function_call_output and response.create go on.
  session.handle({ type: 'start', settings: initialPatch(), metadata, itemEvents: true, toolCallsEndReply: true, ...(options.resumeToken ? { resumeToken: options.resumeToken } : {}) });

  const reply = (error: WireError, clientEventId?: string) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > ERROR_REPLY_MAX_BUFFERED_BYTES) {
      ws.close(CLOSE.policyViolation, 'too many invalid events while not reading the replies');
      return;
    }
    ws.send(JSON.stringify(writer.error(error, clientEventId)));
  };

  // Callbacks run in the session's scope: a bug in one ends that session, not the process.
  ws.on('message', session.bind((data: RawData, isBinary: boolean) => {
    const bytes = bufferOf(data);
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
    const added = contexts.add(read.event.type, read.context);
    if (!added) {
      const message = `${contexts.bytes} bytes of events already wait for their answers (at most ${options.pendingAnswersMaxBytes}): read the server's events before sending more`;
      return reply(new WireError('invalid_request_error', 'too_many_pending_events', message), read.context.clientEventId);
    }
    const { ref } = added;
    const event: ClientEvent = { ...read.event, ...(ref === undefined ? {} : { ref }) };
    session.handle(event);
  }));
  ws.on('close', session.bind((code: number) => {
    if (code === CLOSE.normal || code === CLOSE.goingAway) session.end();
    else session.close(`the WebSocket closed with code ${code}`, 'client_gone');
  }));
  pump(ws, session, writer, options.closeGraceMs).catch((error: unknown) => {
    session.fail(error);
    closeWithin(ws, CLOSE.internalError, 'internal error: the session was closed', options.closeGraceMs);
  });
}

async function pump(ws: WebSocket, session: SessionPort, writer: RealtimeEventWriter, closeGraceMs: number): Promise<void> {
  const sink = webSocketSink(ws, (event) => writer.map(event).map((wire) => JSON.stringify(wire)));
  const end = await pumpEvents(session, sink, { closeGraceMs });
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') return closeWithin(ws, CLOSE.policyViolation, session.closeReason ?? 'the client stopped reading', closeGraceMs);
  closeWithin(ws, closeCodeFor(end.last, session.closeCause), session.closeReason ?? 'the session ended', closeGraceMs);
}
