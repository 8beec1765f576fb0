/**
 * `voice-gateway doctor`: checks every backend the settings name (the same settings as `serve`)
 * and prints a table of what works and, for what does not, the fix. Exit code 1 if anything failed.
 */
import type { Config } from '../config/schema.js';
import { checkBackends, type BackendCheck } from '../providers/checks/run-checks.js';

const MARK: Record<BackendCheck['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: '-' };

export async function runDoctor(config: Config, options: { json?: boolean; write?: (text: string) => void } = {}): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const rows = await checkBackends(config, true);
  write(options.json ? `${JSON.stringify({ checks: rows }, null, 2)}\n` : formatChecks(rows));
  return rows.some((r) => r.status === 'fail') ? 1 : 0;
}

/** A table, one line per check; under a warning or failure, its fix. */
export function formatChecks(rows: BackendCheck[]): string {
  const header = { backend: 'BACKEND', check: 'CHECK', result: 'RESULT' };
  const width = (pick: (r: { backend: string; check: string; result: string }) => string) =>
    Math.max(pick(header).length, ...rows.map((r) => pick({ backend: r.backend, check: r.check, result: MARK[r.status] }).length));
  const wBackend = width((r) => r.backend);
  const wCheck = width((r) => r.check);
  const wResult = width((r) => r.result);
  const line = (backend: string, check: string, result: string, detail: string) =>
    `${backend.padEnd(wBackend)}  ${check.padEnd(wCheck)}  ${result.padEnd(wResult)}  ${detail}`.trimEnd();
  const out = [line(header.backend, header.check, header.result, 'DETAIL')];
  for (const r of rows) {
    out.push(line(r.backend, r.check, MARK[r.status], r.detail));
    if (r.fix && (r.status === 'fail' || r.status === 'warn')) out.push(`${''.padEnd(wBackend + wCheck + wResult + 6)}fix: ${r.fix}`);
  }
  const failed = rows.filter((r) => r.status === 'fail').length;
  const warned = rows.filter((r) => r.status === 'warn').length;
  out.push('', failed === 0 ? `all configured backends work${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}` : `${failed} check${failed > 1 ? 's' : ''} failed: see the fixes above`);
  return `${out.join('\n')}\n`;
}
