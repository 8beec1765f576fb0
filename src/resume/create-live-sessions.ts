/**
 * Resume as the configuration asks for it: the store (memory or Redis) behind its guard, the
 * token keys, and the live sessions of this process, with a warning and metrics for a store in
 * trouble. Tokens and Redis credentials never reach a log line.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { ResumeMetrics } from '../observability/resume-metrics.js';
import { createSessionStore } from './create-store.js';
import { LiveSessions, type ResumableSession } from './live-sessions.js';
import { ResumeTokens } from './resume-token.js';
import type { SessionObserver } from '../core/session-config.js';

export interface ResumeWiring {
  config: Config;
  log: Logger;
  registry: Registry;
  makeSession: (hooks: SessionObserver, id?: string) => ResumableSession;
}

export function createLiveSessions({ config, log, registry, makeSession }: ResumeWiring): LiveSessions {
  const metrics = new ResumeMetrics(registry);
  const store = createSessionStore(config, {
    onStoreError: (operation, message, outageStarted) => {
      metrics.storeError(operation);
      if (outageStarted) log.warn({ store: config.SESSION_STORE, operation }, `${message}: sessions go on without resume until the store answers again`);
    },
    onStoreRecovered: () => {
      metrics.storeRecovered();
      log.info({ store: config.SESSION_STORE }, 'the session store answers again: sessions can be resumed');
    },
  });
  // Without a configured secret (memory store only: createSessionStore checks), tokens are this process's own.
  const secrets = config.RESUME_SECRET ? config.RESUME_SECRET.split(',').map((s) => s.trim()) : [randomBytes(32).toString('base64url')];
  return new LiveSessions({
    store,
    tokens: new ResumeTokens(secrets, config.SESSION_MAX_DURATION_MS + config.RESUME_WINDOW_MS),
    windowMs: config.RESUME_WINDOW_MS,
    heartbeatMs: config.SESSION_STORE_HEARTBEAT_MS,
    owner: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    outboundQueueMaxBytes: config.OUTBOUND_QUEUE_MAX_BYTES,
    inboundQueueMaxMessages: config.INBOUND_QUEUE_MAX_MESSAGES,
    inboundQueueMaxBytes: config.INBOUND_QUEUE_MAX_BYTES,
    makeSession,
    onResume: (outcome) => {
      metrics.resume(outcome);
      log.info({ outcome }, 'resume');
    },
  });
}
