/**
 * Asterisk AudioSocket over TCP (AUDIOSOCKET_PORT, off by default), for Asterisk before the
 * WebSocket channel: `AudioSocket(<uuid>,<host>:<port>)` in the dialplan. Asterisk sends the
 * call's UUID, then 20 ms of audio per message; the call starts with the first audio, whose kind
 * gives the rate, and the reply goes back in the same kind. Asterisk plays whatever arrives at
 * once and nothing sent can be taken back, so reply audio is paced here in real time, one frame
 * per 20 ms (../paced-playout.ts): a barge-in drops what waits here, and what was sent is all the
 * caller heard. The protocol carries no credential: calls are admitted as the principal
 * "audiosocket" (the session limits apply); expose the port to the PBX only.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ServerEvent } from '../../../core/events.js';
import type { SessionPort } from '../../../core/session-port.js';
import { isRefusal, type SessionRefusal } from '../../session-factory.js';
import type { EventSink } from '../../event-pump.js';
import { readCallParameters } from '../call-parameters.js';
import { isDtmfDigit } from '../dtmf.js';
import { FRAME_MS } from '../frame-clock.js';
import { callSettings, DEFAULT_CLOSE_GRACE_MS, type TelephonyOptions } from '../options.js';
import { PacedPlayout, pacedLeg } from '../paced-playout.js';
import { TelephonyCall } from '../telephony-call.js';
import { audioRateHz, encodeMessage, isAudioKind, KIND, MessageReader, type AudioSocketMessage } from './framing.js';

/** Bytes the socket may hold before the pump waits (its share; the session's queue is the bound). */
const SEND_HIGH_WATER_BYTES = 64 * 1024;
/** Messages held while the call is admitted (about 5 s of audio). */
const MAX_WAITING_MESSAGES = 256;
const MAX_LOGGED_EARLY_PROBLEMS = 5;
/** Asterisk's error code for "the caller hung up" (a bit flag). */
const ERROR_CALLER_HANGUP = 0x01;

export interface AudioSocketServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startAudioSocketServer(host: string, port: number, options: TelephonyOptions): Promise<AudioSocketServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveAudioSocket(socket, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.end(encodeMessage(KIND.hangup));
        server.close(() => resolve());
        setTimeout(() => sockets.forEach((s) => s.destroy()), 1000).unref();
      }),
  };
}

interface Connection {
  call: TelephonyCall;
  playout: PacedPlayout;
  kind: number;
  maxFrameBytes: number;
}

function serveAudioSocket(socket: Socket, options: TelephonyOptions): void {
  const reader = new MessageReader();
  let uuid = '';
  let connection: Connection | null = null;
  let admitting = false;
  let earlyProblems = 0;
  const waiting: AudioSocketMessage[] = [];
  const hangUp = () => socket.end(encodeMessage(KIND.hangup));
  const startTimer = setTimeout(() => {
    if (connection || admitting) return;
    options.log.warn({ transport: 'audiosocket' }, `no audio within ${options.startTimeoutMs} ms (START_TIMEOUT_MS): hanging up`);
    hangUp();
  }, options.startTimeoutMs);
  startTimer.unref();
  const problem = (text: string) => {
    if (connection) connection.call.reject(text);
    else if (++earlyProblems <= MAX_LOGGED_EARLY_PROBLEMS) options.log.warn({ transport: 'audiosocket' }, text);
  };

  const begin = async (kind: number, rateHz: number) => {
    admitting = true;
    const made: SessionPort | SessionRefusal = await options
      .createSession(undefined, { address: socket.remoteAddress, transport: 'audiosocket' }, { principal: 'audiosocket' })
      .catch((error: unknown) => ({ refused: `internal error while admitting the call: ${String(error)}`, code: 'unavailable' as const }));
    admitting = false;
    clearTimeout(startTimer);
    if (isRefusal(made)) {
      options.log.warn({ transport: 'audiosocket', code: made.code }, `call refused: ${made.refused}`);
      return hangUp();
    }
    if (socket.destroyed) return made.close('Asterisk left while the call was admitted', 'client_gone');
    connection = startConnection(socket, made, kind, rateHz, uuid, options);
    for (const message of waiting.splice(0)) handle(message);
  };

  const handle = (message: AudioSocketMessage): void => {
    const { kind, payload } = message;
    if (admitting) {
      if (waiting.length < MAX_WAITING_MESSAGES) waiting.push(message);
      return;
    }
    switch (kind) {
      case KIND.uuid:
        if (payload.length !== 16) return problem(`a UUID message of ${payload.length} bytes came: a UUID is 16 bytes`);
        uuid = formatUuid(payload);
        return;
      case KIND.hangup:
        return connection ? connection.call.callerHungUp('AudioSocket hangup') : void socket.end();
      case KIND.error:
        options.log.warn({ sessionId: connection?.call.session.id, transport: 'audiosocket', code: payload[0] }, 'Asterisk reported an AudioSocket error');
        if (connection && payload.length > 0 && payload[0]! & ERROR_CALLER_HANGUP) connection.call.callerHungUp('AudioSocket error: caller hung up');
        return;
      case KIND.dtmf: {
        const digit = payload.toString('latin1');
        if (payload.length !== 1 || !isDtmfDigit(digit)) return problem('a DTMF message must carry one key: 0-9 * # A-D');
        if (connection) connection.call.keyPressed(digit);
        return;
      }
      default:
        if (isAudioKind(kind)) return audio(kind, payload);
        return problem(`unknown AudioSocket message kind 0x${kind.toString(16)}: expected 0x00 hangup, 0x01 uuid, 0x03 dtmf, 0x10-0x16 audio, 0xff error`);
    }
  };

  const audio = (kind: number, payload: Buffer) => {
    const rateHz = audioRateHz(kind);
    if (rateHz === null) return problem(`audio of kind 0x${kind.toString(16)} is at a rate this gateway does not take: use 8 to 48 kHz (0x10-0x16)`);
    if (payload.length === 0 || payload.length % 2 !== 0) return problem(`an audio message of ${payload.length} bytes came: slin audio is 2-byte samples`);
    if (!connection) {
      waiting.push({ kind, payload }); // the first audio starts the call and is heard once it has started
      return void begin(kind, rateHz);
    }
    if (kind !== connection.kind) return problem(`audio of kind 0x${kind.toString(16)} came in a call that started with 0x${connection.kind.toString(16)}: the rate cannot change`);
    if (payload.length > connection.maxFrameBytes) return problem(`an audio message of ${payload.length} bytes came: at most ${connection.maxFrameBytes} (TELEPHONY_MAX_FRAME_MS)`);
    connection.call.audio(payload);
  };

  const onData = (chunk: Buffer) => {
    for (const message of reader.push(chunk)) handle(message);
  };
  // Once the call has a session, its callbacks run in the session's scope: a bug ends that call, not the process.
  socket.on('data', (chunk: Buffer) => (connection ? connection.call.session.bind(onData)(chunk) : onData(chunk)));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearTimeout(startTimer);
    if (!connection) return;
    connection.playout.stop();
    if (!connection.call.session.closedSignal.aborted) connection.call.callerHungUp('the AudioSocket connection closed');
  });
}

function startConnection(socket: Socket, session: SessionPort, kind: number, rateHz: number, uuid: string, options: TelephonyOptions): Connection {
  const frameBytes = (rateHz * FRAME_MS * 2) / 1000;
  const call = new TelephonyCall(session, callSettings(options, 'audiosocket'));
  const playout = new PacedPlayout({
    frameBytes,
    leadFrames: 1, // real time: nothing sent can be taken back
    silenceByte: 0,
    maxHeldBytes: options.maxHeldBytes,
    send(frames) {
      if (!socket.destroyed) for (const frame of frames) socket.write(encodeMessage(kind, frame));
    },
    heard: (responseId, playedMs) => call.heard(responseId, playedMs),
  });
  // Nothing sent can be taken back: a barge-in only drops what waits here.
  call.begin(pacedLeg(playout, session, options.maxHeldBytes, [], (done) => playout.whenIdle(done)), {
    format: { encoding: 'pcm16', sampleRateHz: rateHz },
    parameters: readCallParameters({}, options.defaults, options.greeting, options.maxTextChars),
    metadata: uuid ? { uuid } : {},
  });
  const connection: Connection = { call, playout, kind, maxFrameBytes: Math.round((options.maxFrameMs * rateHz * 2) / 1000) };
  call
    .pump(socketSink(socket, (event) => call.frames(event)), options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS)
    .catch((error: unknown) => session.fail(error))
    .finally(() => {
      playout.stop();
      socket.end(encodeMessage(KIND.hangup));
    });
  return connection;
}

/** The pump's sink over a TCP socket: `route` hands each event to the call (audio goes out through the playout). */
function socketSink(socket: Socket, route: (event: ServerEvent) => unknown): EventSink {
  return {
    get open() {
      return !socket.destroyed && socket.writable;
    },
    send(event) {
      route(event);
      return socket.writableLength < SEND_HIGH_WATER_BYTES;
    },
    drained: (stop) =>
      new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
        stop.addEventListener('abort', done, { once: true });
      }),
  };
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
