/**
 * The gRPC transport: serves voice.v1.VoiceGateway/Converse, grpc.health.v1 and server reflection.
 * It maps wire messages onto the core's events and adds no conversation logic of its own.
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { ServerEvent } from '../../core/events.js';
import type { Session } from '../../core/session.js';
import type { ConverseResponse } from '../../gen/voice/v1/voice_pb.js';
import { toClientEvent, toResponse } from '../voice-proto.js';
import { converseDefinition, VOICE_SERVICE, type Decoded } from './definition.js';

export { VOICE_SERVICE };
/** How long a client that stopped reading gets to take its final status before it is cut off. */
const STUCK_CLIENT_GRACE_MS = 10_000;
const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

export interface GrpcServerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  /** Makes a session for a new call; the server owns nothing else of it. */
  createSession: () => Session;
}

export interface GrpcServer {
  readonly port: number;
  readonly health: HealthImplementation;
  close(): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    // Audio out can be large; sending is bounded by the session's outbound queue instead.
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(converseDefinition, {
    Converse: (call: grpc.ServerDuplexStream<Decoded, ConverseResponse>) => void converse(call, options.createSession()),
  });
  const health = new HealthImplementation({ '': 'SERVING', [VOICE_SERVICE]: 'SERVING' });
  health.addToServer(server);
  const reflected = loadSync([`${PROTO_ROOT}/voice/v1/voice.proto`, healthProtoPath], { includeDirs: [PROTO_ROOT] });
  new ReflectionService(reflected).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    health,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}

async function converse(call: grpc.ServerDuplexStream<Decoded, ConverseResponse>, session: Session): Promise<void> {
  call.on('data', (decoded: Decoded) => {
    if (!decoded.ok) {
      session.rejectMessage(`the message is not a valid voice.v1.ConverseRequest (${decoded.reason})`);
      return;
    }
    const event = toClientEvent(decoded.request);
    if (event) session.handle(event);
    else session.rejectMessage('the ConverseRequest has no event set: set one of start, audio, text, commit, interrupt, playback, update');
  });
  call.on('end', () => session.end());
  call.on('cancelled', () => session.close('the client cancelled the call'));
  call.on('error', () => session.close('the call failed'));

  let last: ServerEvent | undefined;
  for await (const event of session.events) {
    last = event;
    if (call.cancelled || call.destroyed) break;
    if (!call.write(toResponse(event))) await Promise.race([once(call, 'drain'), once(call, 'close')]);
  }
  if (call.cancelled || call.destroyed) return;
  // A session ended by a fatal error also ends the call with a matching gRPC status.
  if (last?.type === 'error' && !last.sessionContinues) {
    const code = last.code === 'resource_exhausted' ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.ABORTED;
    call.emit('error', { code, details: last.message });
    return;
  }
  if (session.closeReason?.startsWith('the client stopped reading')) {
    // The status waits behind the writes already queued; a client that still does not read
    // within the grace is cut off, so nothing is held for it.
    call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: session.closeReason });
    setTimeout(() => call.destroy(), STUCK_CLIENT_GRACE_MS).unref();
    return;
  }
  call.end();
}
