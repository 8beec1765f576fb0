/** Reads settings from flags, then the environment, then defaults, and validates them once. */
import { SETTINGS, type Config, type SettingName, type SettingSpec } from './schema.js';

/** A bad setting: the message is one line naming the variable, the value and what is accepted. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `LLM_BASE_URL` -> `llm-base-url` (the flag is `--llm-base-url`). */
export function flagName(setting: SettingName): string {
  return setting.toLowerCase().replaceAll('_', '-');
}

/** commander's camelCase key for the flag of a setting. */
export function flagKey(setting: SettingName): string {
  return flagName(setting).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function loadConfig(
  env: Record<string, string | undefined>,
  flags: Record<string, unknown> = {},
): Config {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, SettingSpec]>) {
    const fromFlag = flags[flagKey(name)];
    const raw = typeof fromFlag === 'string' ? fromFlag : (env[name] ?? spec.default);
    const result = spec.schema.safeParse(raw);
    if (!result.success) {
      const shown = spec.secret ? '<hidden>' : JSON.stringify(raw);
      const why = result.error.issues.map((i) => i.message).join('; ');
      throw new ConfigError(`${name}=${shown} is not accepted: ${why} (${spec.help})`);
    }
    out[name] = result.data;
  }
  const config = out as Config;
  checkCombinations(config);
  return config;
}

/** Settings that are valid alone but not together. */
function checkCombinations(config: Config): void {
  if (config.AUTH_MODE === 'jwt' && !config.JWT_AUDIENCE) {
    throw new ConfigError('AUTH_MODE=jwt needs JWT_AUDIENCE: the audience (aud) tokens for this gateway carry; without it a token issued for any other service would be accepted');
  }
}

/** Settings with secrets masked, for logs and `ready`. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, SettingSpec]>) {
    out[name] = spec.secret && config[name] ? '<set>' : config[name];
  }
  return out;
}
