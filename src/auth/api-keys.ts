/**
 * API keys, stored hashed: the gateway keeps only `name:sha256hex` lines, so a leaked settings
 * file reveals no key. Keys are long random tokens, so a plain SHA-256 is the right hash (a
 * password hash like scrypt would only slow every session start).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ApiKeyEntry {
  /** Who holds the key: used for per-key limits and logs, never the key itself. */
  name: string;
  sha256: Buffer;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key and the line to put in API_KEYS (`voice-gateway new-key NAME`). */
export function newApiKey(name: string): { key: string; line: string } {
  const key = `vgk_${randomBytes(24).toString('base64url')}`;
  return { key, line: `${name}:${hashApiKey(key)}` };
}

/** Parses `name:sha256hex` entries (comma or newline separated); throws on a malformed one. */
export function parseApiKeys(text: string): ApiKeyEntry[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([\w.@-]{1,64}):([0-9a-f]{64})$/i.exec(line);
      if (!match) throw new Error(`API key entry "${line.slice(0, 20)}..." is not "name:sha256hex" (make one with: voice-gateway new-key NAME)`);
      return { name: match[1]!, sha256: Buffer.from(match[2]!, 'hex') };
    });
}

/** The holder of `key`, or null. Compares every entry in constant time. */
export function matchApiKey(entries: readonly ApiKeyEntry[], key: string): string | null {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  let found: string | null = null;
  for (const entry of entries) if (timingSafeEqual(entry.sha256, digest)) found = entry.name;
  return found;
}
