/**
 * The composition root: configuration -> providers -> sessions -> transports. Nothing else in
 * the code base chooses a vendor.
 */
import type { Logger } from 'pino';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config, SettingName } from './config/schema.js';
import { Session, type SessionConfig } from './core/session.js';
import { sessionTurnSettings, turnEngineSettings, turnValues, TURN_KNOBS, type TurnKnob, type TurnKnobName, type TurnValues } from './core/turn-config.js';
import { GatewayObservability } from './observability/gateway-observability.js';
import { createLogger } from './observability/logging.js';
import { Admissions, type AdmissionSettings } from './auth/admission.js';
import { defaultMaxSessions, hostResources } from './auth/session-cap.js';
import { guardProcess } from './observability/internal-errors.js';
import { createProviders } from './providers/create.js';
import type { Providers } from './providers/types.js';
import { startGrpcServer, VOICE_SERVICE, type GrpcServer } from './transports/grpc/server.js';
import { emptyRoutes, startHttpServer, type HttpServer } from './transports/http/server.js';
import { withCredential } from './transports/http/credential-route.js';
import { BUILT_WEB_CLIENT_DIR, webClientRoutes } from './transports/http/web-client.js';
import { createVoiceWebSocketServer, VOICE_WEBSOCKET_PATH } from './transports/websocket/server.js';
import { createRealtimeServer, REALTIME_PATH } from './transports/realtime/server.js';
import { readTlsFiles, type TlsFiles } from './config/tls.js';
import type { SessionFactory } from './transports/session-factory.js';
import { telephonyOptions } from './transports/telephony/telephony-config.js';
import { createTwilioServer, TWILIO_STREAM_PATH, TWIML_PATH } from './transports/telephony/twilio/server.js';
import { ASTERISK_PATH, createAsteriskServer } from './transports/telephony/asterisk/server.js';
import { createJambonzServer, JAMBONZ_HOOK_PATH, JAMBONZ_STREAM_PATH } from './transports/telephony/jambonz/server.js';
import { startAudioSocketServer, type AudioSocketServer } from './transports/telephony/audiosocket/server.js';
import { createVoiceLister } from './transports/voice-v1/voice-list.js';
import { checkBackends } from './providers/checks/run-checks.js';
import { startMcpBackend } from './providers/tools/create.js';
import type { ToolsConfig } from './core/session-tools.js';
import { DEFAULT_FILLER_PHRASES } from './core/tool-filler.js';
import type { ToolBackend } from './providers/types.js';
import { createLiveSessions } from './resume/create-live-sessions.js';

export function sessionConfig(config: Config): SessionConfig {
  const turn = turnValuesOf(config);
  return {
    defaults: {
      inputFormat: { encoding: 'pcm16', sampleRateHz: config.ASR_SAMPLE_RATE },
      outputFormat: { encoding: 'pcm16', sampleRateHz: config.TTS_SAMPLE_RATE },
      language: config.ASR_LANGUAGE,
      voice: config.TTS_VOICE,
      instructions: config.LLM_SYSTEM_PROMPT,
      turn: sessionTurnSettings(turn),
      tools: [],
      toolChoice: 'auto',
      toolFiller: true,
    },
    ...turnEngineSettings(turn),
    llmTemperature: config.LLM_TEMPERATURE,
    llmMaxTokens: config.LLM_MAX_TOKENS,
    llmContextTokens: config.LLM_CONTEXT_TOKENS,
    maxDurationMs: config.SESSION_MAX_DURATION_MS,
    idleTimeoutMs: config.SESSION_IDLE_TIMEOUT_MS,
    maxTextChars: config.MAX_TEXT_CHARS,
    inboundQueueMaxMessages: config.INBOUND_QUEUE_MAX_MESSAGES,
    inboundQueueMaxBytes: config.INBOUND_QUEUE_MAX_BYTES,
    outboundQueueMaxBytes: config.OUTBOUND_QUEUE_MAX_BYTES,
    startTimeoutMs: config.START_TIMEOUT_MS,
  };
}

/** What sessions get about tools: the MCP backend (if any), the tool knobs, fillers and bounds. */
export function toolsConfig(config: Config, backend: ToolBackend | undefined): ToolsConfig {
  const turn = turnValuesOf(config);
  return {
    ...(backend ? { backend } : {}),
    rounds: {
      maxRounds: turn.toolMaxRounds,
      timeoutMs: turn.toolTimeoutMs,
      fillerAfterMs: turn.toolFillerAfterMs,
      argumentRetries: turn.toolArgumentRetries,
      resultMaxBytes: config.TOOL_RESULT_MAX_BYTES,
      activityDetail: config.TOOL_ACTIVITY_DETAIL,
    },
    fillerPhrases: { ...DEFAULT_FILLER_PHRASES, ...config.TOOL_FILLER_PHRASES },
    declarationsMaxBytes: config.TOOL_DECLARATIONS_MAX_BYTES,
  };
}

/** Each turn knob's value: its environment variable's, or its default when it has none (core/turn-config.ts). */
export function turnValuesOf(config: Config): TurnValues {
  const fromEnv: Record<string, unknown> = {};
  for (const [name, knob] of Object.entries(TURN_KNOBS) as Array<[TurnKnobName, TurnKnob]>) {
    if (knob.env) fromEnv[name] = config[knob.env as SettingName];
  }
  return turnValues(fromEnv);
}

export interface Gateway {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The AudioSocket port, when AUDIOSOCKET_PORT turned it on. */
  readonly audioSocketPort: number | undefined;
  readonly activeSessions: number;
  /**
   * Graceful shutdown: report NOT_SERVING, refuse new sessions (retryable), let active sessions
   * finish for up to `graceMs`, tell those still connected to reconnect, then close.
   */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/** How long the last clients get to receive their "reconnect" before the servers close. */
const GO_AWAY_FLUSH_MS = 1000;

export function admissionSettings(config: Config): AdmissionSettings {
  return {
    mode: config.AUTH_MODE,
    apiKeys: config.API_KEYS,
    jwtJwksUrl: config.JWT_JWKS_URL,
    jwtPublicKeyFile: config.JWT_PUBLIC_KEY_FILE,
    jwtAlgorithm: config.JWT_ALGORITHM,
    jwtIssuer: config.JWT_ISSUER,
    jwtAudience: config.JWT_AUDIENCE,
    jwtMaxLifetimeS: config.JWT_MAX_LIFETIME_S,
    jwtPrincipalClaim: config.JWT_PRINCIPAL_CLAIM,
    maxSessions: config.MAX_SESSIONS ?? defaultMaxSessions(hostResources()),
    perKeyMaxSessions: config.KEY_MAX_SESSIONS,
    perKeyMaxNewSessionsPerMinute: config.KEY_MAX_NEW_SESSIONS_PER_MINUTE,
  };
}

export interface GatewayOptions {
  config: Config;
  /** Providers made elsewhere (tests, embedding); by default the configuration's. */
  providers?: Providers;
  logger?: Logger;
  /** Trace spans go here instead of where the OTEL_* settings say (tests, embedding). */
  traceExporter?: SpanExporter;
  /**
   * Handle errors that escape everything else (unhandled rejections, uncaught exceptions) for the
   * whole process: `serve` does; an application that embeds the gateway may have its own.
   */
  guardProcess?: boolean;
}

export async function startGateway({ config, providers, logger, traceExporter, guardProcess: guard = false }: GatewayOptions): Promise<Gateway> {
  const log = logger ?? createLogger(config.LOG_LEVEL);
  const tls = readTlsFiles(config.TLS_CERT_FILE, config.TLS_KEY_FILE); // before providers load: a bad file stops the start at once
  const chosen = providers ?? (await createProviders(config));
  // A backend that is down or misconfigured is reported now, not at the first turn; the start
  // goes on, since backends on Kubernetes often come up after the gateway.
  if (!providers) warnAboutBackends(config, log).catch(() => undefined); // it logs its own failures
  const providerNames = providers
    ? { vad: 'custom', asr: 'custom', llm: 'custom', tts: 'custom' }
    : { vad: config.VAD_PROVIDER, asr: config.ASR_PROVIDER, llm: config.LLM_PROVIDER, tts: config.TTS_PROVIDER };
  const observability = new GatewayObservability({ config, log, providerNames, traceExporter });
  const mcp = await startMcpBackend(config, process.env, log);
  const perSession = { ...sessionConfig(config), tools: toolsConfig(config, mcp) };
  // Sessions and the connections that drive them, resumable (src/resume).
  const sessions = createLiveSessions({
    config,
    log,
    registry: observability.metrics.registry,
    makeSession: (hooks, id) => new Session(chosen, perSession, observability.forSession(hooks), id),
  });
  let draining = false;

  const admissionConfig = admissionSettings(config);
  const admissions = new Admissions(admissionConfig);

  const createSession: SessionFactory = async (credential, client, verified) => {
    if (draining) return { refused: 'the gateway is draining for shutdown: reconnect and another instance will take the session', code: 'unavailable' };
    const admission = verified ? admissions.admitVerified(verified.principal) : await admissions.admit(credential);
    if (!admission.ok) {
      // Neither holds the credential; the reason may say more than the client was told.
      log.warn({ code: admission.code, client: client?.address, transport: client?.transport }, admission.logReason ?? admission.message);
      return { refused: admission.message, code: admission.code, retryAfterS: admission.retryAfterS };
    }
    // The link holds the admission: released when its connection ends, or kept (parked) by a session waiting for a resume.
    return sessions.connect(admission, client?.resumable !== false);
  };

  const grpcServer: GrpcServer = await startGrpcServer({
    host: config.HOST,
    port: config.GRPC_PORT,
    maxMessageBytes: config.MAX_MESSAGE_BYTES,
    tls: tls ? { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, reloadIntervalMs: config.TLS_RELOAD_INTERVAL_MS } : undefined,
    createSession,
    listVoices: createVoiceLister(chosen.tts, (credential) => admissions.verify(credential)),
    halfCloseGraceMs: config.GRPC_HALF_CLOSE_GRACE_MS,
  });
  const httpRoutes = emptyRoutes();
  httpRoutes.routes.set('/metrics', config.METRICS_AUTH === 'gateway' ? withCredential(observability.metrics.handle, (credential) => admissions.verify(credential)) : observability.metrics.handle);
  const allowedOrigins = config.ALLOWED_ORIGINS;
  const voiceWebSocket = createVoiceWebSocketServer({ maxMessageBytes: config.MAX_MESSAGE_BYTES, createSession, allowedOrigins });
  httpRoutes.upgrades.set(VOICE_WEBSOCKET_PATH, voiceWebSocket.upgrade);
  const realtime = createRealtimeServer({
    createSession,
    maxMessageBytes: config.MAX_MESSAGE_BYTES,
    maxFrameBytes: config.REALTIME_MAX_FRAME_BYTES,
    pendingAnswersMaxBytes: config.REALTIME_PENDING_ANSWERS_MAX_BYTES,
    allowedOrigins,
  });
  httpRoutes.upgrades.set(REALTIME_PATH, realtime.upgrade);
  const telephony = telephonyOptions(config, {
    createSession,
    verifyCredential: (credential) => admissions.verify(credential),
    defaults: perSession.defaults,
    tls: tls !== null,
    log,
  });
  const twilio = createTwilioServer(telephony);
  httpRoutes.upgrades.set(TWILIO_STREAM_PATH, twilio.upgrade);
  httpRoutes.routes.set(TWIML_PATH, twilio.twiml);
  const asterisk = createAsteriskServer(telephony);
  httpRoutes.upgrades.set(ASTERISK_PATH, asterisk.upgrade);
  const jambonz = createJambonzServer(telephony);
  httpRoutes.upgrades.set(JAMBONZ_STREAM_PATH, jambonz.upgrade);
  httpRoutes.routes.set(JAMBONZ_HOOK_PATH, jambonz.hook);
  const audioSocket: AudioSocketServer | undefined =
    config.AUDIOSOCKET_PORT === undefined ? undefined : await startAudioSocketServer(config.AUDIOSOCKET_HOST, config.AUDIOSOCKET_PORT, telephony);
  if (config.WEB_CLIENT_ENABLED) {
    for (const [path, handler] of webClientRoutes(config.WEB_CLIENT_DIR || BUILT_WEB_CLIENT_DIR)) httpRoutes.routes.set(path, handler);
  }
  const http = await startHttpServer(config.HOST, config.HTTP_PORT, httpRoutes, tls ?? undefined);
  // gRPC watches its TLS files itself; the HTTP port is given a renewed certificate from here.
  const tlsReload = tls ? reloadHttpTls(http, tls, config, log) : undefined;
  log.info({ grpcPort: grpcServer.port, httpPort: http.port, httpScheme: http.scheme, audioSocketPort: audioSocket?.port, maxSessions: admissionConfig.maxSessions || 'no cap' }, 'voice gateway listening');


  const gateway: Gateway = {
    grpcPort: grpcServer.port,
    httpPort: http.port,
    audioSocketPort: audioSocket?.port,
    get activeSessions() {
      return sessions.size;
    },
    async drain(graceMs) {
      draining = true;
      grpcServer.health.setStatus(VOICE_SERVICE, 'NOT_SERVING');
      log.info({ activeSessions: sessions.size, graceMs }, 'draining: no new sessions');
      // Each session is handed over (saved, told to resume elsewhere) at its next pause, or when the grace ends.
      await sessions.drain(graceMs);
      await new Promise((resolve) => setTimeout(resolve, GO_AWAY_FLUSH_MS)); // the last clients take their "reconnect"
      await gateway.close();
    },
    async close() {
      unguard?.();
      clearInterval(tlsReload);
      grpcServer.health.setStatus('', 'NOT_SERVING');
      grpcServer.health.setStatus(VOICE_SERVICE, 'NOT_SERVING');
      await sessions.close();
      await mcp?.close();
      await Promise.all([voiceWebSocket.close(), realtime.close(), twilio.close(), asterisk.close(), jambonz.close(), audioSocket?.close()]); // upgraded sockets are no longer the HTTP server's to close
      await Promise.all([grpcServer.close(), http.close(), observability.shutdown()]);
    },
  };
  // An exception outside any session leaves the process in a state nobody knows: stop taking
  // sessions, let the active ones finish (DRAIN_GRACE_MS), exit 1 for the supervisor to restart it.
  const unguard = guard
    ? guardProcess({
        log,
        metrics: observability.metrics,
        onUnsafe: () => {
          gateway.drain(config.DRAIN_GRACE_MS).then(() => process.exit(1), () => process.exit(1));
        },
      })
    : undefined;
  return gateway;
}

async function warnAboutBackends(config: Config, log: Pick<Logger, 'warn'>): Promise<void> {
  try {
    for (const row of await checkBackends(config, false)) {
      if (row.status === 'fail' || row.status === 'warn') log.warn({ backend: row.backend, check: row.check }, `${row.detail}${row.fix ? `: ${row.fix}` : ''}`);
    }
  } catch (error) {
    log.warn({ error: error instanceof Error ? error.message : String(error) }, 'the backend checks at start failed');
  }
}

/** Re-reads the TLS files every TLS_RELOAD_INTERVAL_MS and serves a renewed certificate. */
function reloadHttpTls(http: HttpServer, initial: TlsFiles, config: Config, log: Logger): NodeJS.Timeout {
  let served = initial;
  return setInterval(() => {
    try {
      const next = readTlsFiles(config.TLS_CERT_FILE, config.TLS_KEY_FILE);
      if (!next || (next.cert.equals(served.cert) && next.key.equals(served.key))) return;
      http.setTls(next);
      served = next;
      log.info('TLS certificate reloaded');
    } catch (error) {
      log.warn({ error: error instanceof Error ? error.message : String(error) }, 'TLS files changed but cannot be used; keeping the current certificate');
    }
  }, config.TLS_RELOAD_INTERVAL_MS).unref();
}
