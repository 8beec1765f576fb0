/**
 * A child process for the process-guard test: the guard installed, then errors outside any
 * session and inside one, as the test asks on stdin. It prints what the guard did as JSON lines.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { runInSessionScope } from '../../src/core/session-scope.js';
import { guardProcess } from '../../src/observability/internal-errors.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';

const metrics = new GatewayMetrics({ latencyBucketsS: [1], providers: { vad: 'x', asr: 'x', llm: 'x', tts: 'x' } });
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const log = pino({ level: 'error' }, { write: (line: string) => say({ log: JSON.parse(line) as unknown }) });
guardProcess({ log, metrics, onUnsafe: () => say({ unsafe: true }) });

const count = async (scope: string) => {
  const text = await metrics.registry.getSingleMetricAsString('voice_gateway_internal_errors_total');
  return Number(new RegExp(`scope="${scope}"\\} (\\d+)`).exec(text)?.[1]);
};

for await (const command of createInterface({ input: process.stdin })) {
  if (command === 'reject-outside') void Promise.reject(new Error('rejected outside any session'));
  if (command === 'throw-outside') setTimeout(() => { throw new Error('thrown outside any session'); }, 0);
  if (command === 'throw-in-session') {
    runInSessionScope({ sessionId: 'sess_test', fail: (error) => say({ failedSession: 'sess_test', message: (error as Error).message }) }, () =>
      setTimeout(() => { throw new Error('thrown in a session'); }, 0),
    );
  }
  if (command === 'count') say({ process: await count('process'), session: await count('session') });
}
