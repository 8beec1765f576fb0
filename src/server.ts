/**
 * The composition root: configuration -> providers -> sessions -> transports. Nothing else in
 * the code base chooses a vendor.
 */
import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.js';
import { Session, type SessionConfig } from './core/session.js';
import { createProviders } from './providers/create.js';
import type { Providers } from './providers/types.js';
import { startGrpcServer, VOICE_SERVICE, type GrpcServer } from './transports/grpc/server.js';
import { emptyRoutes, startHttpServer } from './transports/http/server.js';

export function sessionConfig(config: Config): SessionConfig {
  return {
    defaults: {
      inputFormat: { encoding: 'pcm16', sampleRateHz: config.ASR_SAMPLE_RATE },
      outputFormat: { encoding: 'pcm16', sampleRateHz: config.TTS_SAMPLE_RATE },
      language: config.ASR_LANGUAGE,
      voice: config.TTS_VOICE,
      instructions: config.LLM_SYSTEM_PROMPT,
      turn: {
        endOfTurnSource: config.TURN_END_SOURCE,
        endOfTurnSilenceMs: config.TURN_END_SILENCE_MS,
        bargeInMinSpeechMs: config.BARGE_IN_MIN_SPEECH_MS,
        bargeInEnabled: config.BARGE_IN_ENABLED,
      },
    },
    vad: {
      threshold: config.VAD_THRESHOLD,
      negThreshold: Math.min(config.VAD_NEG_THRESHOLD, config.VAD_THRESHOLD),
      minSpeechMs: config.VAD_MIN_SPEECH_MS,
      minSilenceMs: config.VAD_MIN_SILENCE_MS,
    },
    asrFinalWaitMs: config.ASR_FINAL_WAIT_MS,
    cancelBudgetMs: config.CANCEL_BUDGET_MS,
    maxPieceChars: config.TTS_MAX_PIECE_CHARS,
    llmTemperature: config.LLM_TEMPERATURE,
    llmMaxTokens: config.LLM_MAX_TOKENS,
    maxDurationMs: config.SESSION_MAX_DURATION_MS,
    idleTimeoutMs: config.SESSION_IDLE_TIMEOUT_MS,
    maxTextChars: config.MAX_TEXT_CHARS,
    inboundQueueMaxMessages: config.INBOUND_QUEUE_MAX_MESSAGES,
    outboundQueueMaxBytes: config.OUTBOUND_QUEUE_MAX_BYTES,
  };
}

export interface Gateway {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly activeSessions: number;
  close(): Promise<void>;
}

export interface GatewayOptions {
  config: Config;
  /** Providers made elsewhere (tests, embedding); by default the configuration's. */
  providers?: Providers;
  logger?: Logger;
}

export async function startGateway({ config, providers, logger }: GatewayOptions): Promise<Gateway> {
  const log = logger ?? pino({ level: config.LOG_LEVEL });
  const chosen = providers ?? (await createProviders(config));
  const perSession = sessionConfig(config);
  const sessions = new Set<Session>();

  const createSession = (): Session => {
    const session = new Session(chosen, perSession, {
      onError: (code, message) => log.warn({ sessionId: session.id, code }, message),
      onAbandoned: (kind) => log.warn({ sessionId: session.id, kind }, `${kind} provider ignored abort past CANCEL_BUDGET_MS; abandoned`),
      onTurn: (metrics, status) => log.info({ sessionId: session.id, turnId: metrics.turnId, status, metrics }, 'turn'),
      onClosed: (reason) => {
        sessions.delete(session);
        log.info({ sessionId: session.id, reason }, 'session closed');
      },
    });
    sessions.add(session);
    log.info({ sessionId: session.id }, 'session opened');
    return session;
  };

  const grpcServer: GrpcServer = await startGrpcServer({
    host: config.HOST,
    port: config.GRPC_PORT,
    maxMessageBytes: config.MAX_MESSAGE_BYTES,
    createSession,
  });
  const http = await startHttpServer(config.HOST, config.HTTP_PORT, emptyRoutes());
  log.info({ grpcPort: grpcServer.port, httpPort: http.port }, 'voice gateway listening');

  return {
    grpcPort: grpcServer.port,
    httpPort: http.port,
    get activeSessions() {
      return sessions.size;
    },
    async close() {
      grpcServer.health.setStatus('', 'NOT_SERVING');
      grpcServer.health.setStatus(VOICE_SERVICE, 'NOT_SERVING');
      for (const session of sessions) session.close('the gateway is shutting down');
      await Promise.all([grpcServer.close(), http.close()]);
    },
  };
}

