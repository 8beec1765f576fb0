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
import type { ErrorCode } from '../../core/events.js';
import type { SessionPort } from '../../core/session-port.js';
import { bearerToken, isRefusal, type SessionFactory, type SessionRefusal } from '../session-factory.js';
import type { ConverseResponse } from '../../gen/voice/v1/voice_pb.js';
import { pumpEvents, type EventSink } from '../event-pump.js';
import { toResponse } from '../voice-v1/proto-mapping.js';
import { deliverRequest, type Decoded } from '../voice-v1/requests.js';
import type { VoiceLister } from '../voice-v1/voice-list.js';
import { converseDefinition, VOICE_SERVICE } from './definition.js';
import { listVoicesHandler } from './list-voices.js';
import { statusFirst } from './status-first.js';

export { VOICE_SERVICE };
/** The gRPC status that ends a call whose session ended with this error. */
const FATAL_STATUS: Partial<Record<ErrorCode, grpc.status>> = {
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  resume_refused: grpc.status.FAILED_PRECONDITION,
  reconnect_to_resume: grpc.status.UNAVAILABLE,
  failed_precondition: grpc.status.FAILED_PRECONDITION,
  internal: grpc.status.INTERNAL,
};

/** How long a client that stopped reading gets to take its final status before it is cut off. */
const STUCK_CLIENT_GRACE_MS = 10_000;
const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

export interface GrpcServerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  /** Serve TLS from these PEM files, re-read every `reloadIntervalMs` (renewed certificates). */
  tls?: { certFile: string; keyFile: string; reloadIntervalMs: number };
  /** Makes a session for a new call, or refuses it (draining, credentials, limits). */
  createSession: SessionFactory;
  /** Answers ListVoices; without it ListVoices is UNIMPLEMENTED. */
  listVoices?: VoiceLister;
  /** GRPC_HALF_CLOSE_GRACE_MS: how long a half-close waits for the cancel that may follow it. */
  halfCloseGraceMs: number;
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
    // A status grpc-js sends itself (a message over the limit) must not wait behind our writes.
    interceptors: [statusFirst],
  });
  server.addService(converseDefinition, {
    Converse: (call: grpc.ServerDuplexStream<Decoded, ConverseResponse>) => {
      // Errors of a session's own work end that session (converse); this catches only the admission's.
      openConverse(call, options.createSession, options.halfCloseGraceMs).catch(() => call.emit('error', { code: grpc.status.INTERNAL, details: 'internal error while opening the session' }));
    },
    ListVoices: listVoicesHandler(options.listVoices),
  });
  const health = new HealthImplementation({ '': 'SERVING', [VOICE_SERVICE]: 'SERVING' });
  health.addToServer(server);
  const reflected = loadSync([`${PROTO_ROOT}/voice/v1/voice.proto`, healthProtoPath], { includeDirs: [PROTO_ROOT] });
  new ReflectionService(reflected).addToServer(server);

  const serverCredentials = await credentials(options.tls);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, serverCredentials, (error, bound) =>
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

/**
 * Plain, or TLS whose files grpc-js itself watches: a renewed certificate is served to new
 * connections without a restart. (The first argument of this grpc-js function is the identity
 * provider despite its name; no client-certificate CA.)
 */
async function credentials(tls: GrpcServerOptions['tls']): Promise<grpc.ServerCredentials> {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const provider = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs: tls.reloadIntervalMs,
  });
  // The provider reads the files asynchronously; until it has, the port would reset every TLS
  // handshake. So the port opens only once the certificate is loaded. (This listener stays: it
  // also keeps the provider watching the files.)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the TLS files ${tls.certFile} and ${tls.keyFile} were not loaded within ${TLS_LOAD_TIMEOUT_MS / 1000} s`)), TLS_LOAD_TIMEOUT_MS);
    provider.addIdentityCertificateListener((update) => {
      if (!update) return;
      clearTimeout(timer);
      resolve();
    });
  });
  return grpc.experimental.createCertificateProviderServerCredentials(provider, null, false);
}

const TLS_LOAD_TIMEOUT_MS = 10_000;

/** Credentials come as `authorization: Bearer <key>` or `x-api-key: <key>` metadata. */
async function openConverse(call: grpc.ServerDuplexStream<Decoded, ConverseResponse>, createSession: SessionFactory, halfCloseGraceMs: number): Promise<void> {
  const metadataValue = (key: string) => {
    const value = call.metadata.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const session = await createSession(bearerToken(metadataValue('authorization')) ?? metadataValue('x-api-key'), { address: call.getPeer(), transport: 'grpc' });
  if (!isRefusal(session)) return converse(call, session, halfCloseGraceMs);
  const trailer = new grpc.Metadata();
  if (session.retryAfterS !== undefined) trailer.set('retry-after', String(session.retryAfterS));
  call.emit('error', { code: REFUSAL_STATUS[session.code], details: session.refused, metadata: trailer });
}

const REFUSAL_STATUS: Record<SessionRefusal['code'], grpc.status> = {
  unavailable: grpc.status.UNAVAILABLE,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
};

function converse(call: grpc.ServerDuplexStream<Decoded, ConverseResponse>, session: SessionPort, halfCloseGraceMs: number): void {
  // Callbacks run in the session's scope: a bug in one ends that session, not the process.
  call.on('data', session.bind((decoded: Decoded) => deliverRequest(session, decoded)));
  // The client's half-close ends the session (voice.proto); a cancelled call is a dropped
  // connection, and its session waits for a resume (src/resume). On the wire a grpc-js cancel()
  // is a half-close and then RST_STREAM(CANCEL) (Node flushes the first before it sends the
  // second), so a half-close is final only once no cancel followed it within the grace; the
  // status OK waits as long (after it, a cancel could no longer be seen).
  call.on('end', session.bind(() => setTimeout(session.bind(() => halfClosed(call, session)), halfCloseGraceMs)));
  call.on('cancelled', session.bind(() => session.close('the client cancelled the call', 'client_gone')));
  call.on('error', session.bind(() => session.close('the call failed', 'transport_error')));
  pump(call, session).catch((error: unknown) => {
    session.fail(error);
    call.emit('error', { code: grpc.status.INTERNAL, details: 'internal error: the session was closed' });
  });
}

function halfClosed(call: grpc.ServerDuplexStream<Decoded, ConverseResponse>, session: SessionPort): void {
  if (!call.cancelled) session.end();
}

async function pump(call: grpc.ServerDuplexStream<Decoded, ConverseResponse>, session: SessionPort): Promise<void> {
  const sink: EventSink = {
    get open() {
      return !call.cancelled && !call.destroyed;
    },
    send: (event) => call.write(toResponse(event)),
    drained: (stop) => Promise.race([once(call, 'drain', { signal: stop }), once(call, 'close', { signal: stop })]),
  };
  const end = await pumpEvents(session, sink, { closeGraceMs: STUCK_CLIENT_GRACE_MS });
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') {
    // The status waits behind the writes already queued; a client that still does not read
    // within the grace is cut off, so nothing is held for it.
    call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: session.closeReason ?? 'the client stopped reading' });
    setTimeout(() => call.destroy(), STUCK_CLIENT_GRACE_MS).unref();
    return;
  }
  // A session ended by a fatal error also ends the call with a matching gRPC status.
  const { last } = end;
  if (last?.type === 'error' && !last.sessionContinues) {
    const code = FATAL_STATUS[last.code] ?? grpc.status.ABORTED;
    call.emit('error', { code, details: last.message });
    return;
  }
  call.end();
}
