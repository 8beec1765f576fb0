/** The session store the configuration asks for, behind its guard. */
import type { Config } from '../config/schema.js';
import { MemorySessionStore } from './memory-store.js';
import { RedisSessionStore } from './redis-store.js';
import { GuardedStore, type StoreObserver } from './store-guard.js';
import type { StoreTiming } from './session-store.js';

/** A live session is marked live for two heartbeats, so one late heartbeat does not matter. */
export function storeTiming(config: Pick<Config, 'RESUME_WINDOW_MS' | 'SESSION_STORE_HEARTBEAT_MS'>): StoreTiming {
  return { windowMs: config.RESUME_WINDOW_MS, leaseMs: 2 * config.SESSION_STORE_HEARTBEAT_MS };
}

export function createSessionStore(config: Config, observer: StoreObserver): GuardedStore {
  const timing = storeTiming(config);
  if (config.SESSION_STORE === 'memory') return new GuardedStore(new MemorySessionStore(timing), config.SESSION_STORE_TIMEOUT_MS, observer);
  if (!config.REDIS_URL) throw new Error('SESSION_STORE=redis needs REDIS_URL (redis://host:6379/0, or rediss:// for TLS)');
  if (!config.RESUME_SECRET) throw new Error('SESSION_STORE=redis needs RESUME_SECRET, the same on every replica, so that any replica can check the tokens of the others');
  let guard: GuardedStore | undefined = undefined;
  const store = new RedisSessionStore({
    url: config.REDIS_URL,
    password: config.REDIS_PASSWORD || undefined,
    caFile: config.REDIS_CA_FILE || undefined,
    keyPrefix: config.REDIS_KEY_PREFIX,
    timeoutMs: config.SESSION_STORE_TIMEOUT_MS,
    timing,
    onConnection: (up, error) => {
      if (!up) guard?.connectionLost(`the connection to Redis is down${error ? ` (${error.message})` : ''}`);
    },
  });
  guard = new GuardedStore(store, config.SESSION_STORE_TIMEOUT_MS, observer);
  return guard;
}
