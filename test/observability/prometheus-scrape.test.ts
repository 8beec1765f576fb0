/**
 * A real Prometheus (Debian's /usr/bin/prometheus, on loopback, in a temporary folder) scrapes
 * the gateway, and its HTTP API answers queries on the histogram after a scripted turn. Every query
 * of the Grafana dashboard is also run against it, so a typo in the dashboard fails here.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ask } from '../../src/client/ask-client.js';
import { silence } from '../support/scripted-providers.js';
import { startScriptedGateway, untilNoSessions } from './scripted-gateway.js';

const PROMETHEUS = '/usr/bin/prometheus';
const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/voice-gateway-dashboard.json', import.meta.url));
/** Prometheus starts, scrapes every second; on a loaded machine this is generous. */
const SCRAPED_WITHIN_MS = 60_000;
const missing = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is missing: install Debian's prometheus (scripts/setup.sh --test does)`;

type QueryResult = { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

void describe('Prometheus scrapes /metrics', { skip: missing }, () => {
  let gateway: Awaited<ReturnType<typeof startScriptedGateway>>;
  let prometheus: ChildProcess;
  let promPort: number;
  let dir: string;
  let promOutput = '';

  const query = async (promql: string): Promise<QueryResult> => {
    const response = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await response.json()) as QueryResult;
  };

  before(async () => {
    gateway = await startScriptedGateway();
    dir = await mkdtemp(join(tmpdir(), 'voice-gateway-prometheus-'));
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: voice-gateway',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${gateway.httpPort}']`,
        '',
      ].join('\n'),
    );
    promPort = await freePort();
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--web.listen-address=127.0.0.1:${promPort}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--log.level=warn'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (chunk: Buffer) => (promOutput += chunk.toString()));
    prometheus.stderr?.on('data', (chunk: Buffer) => (promOutput += chunk.toString()));
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
    }
    await gateway?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void it('returns the voice-to-voice histogram of a scripted turn through its HTTP API', async () => {
    const result = await ask({ server: gateway.grpcAddress, pcm: silence(200), sampleRateHz: 16000, texts: ['hello prometheus'], settleMs: 300, fast: true, timeoutMs: 30_000 });
    assert.deepEqual(result.errors, []);
    assert.equal(result.turns[0]?.response_status, 'completed', JSON.stringify(result.turns));
    await untilNoSessions(gateway.httpPort);

    const deadline = Date.now() + SCRAPED_WITHIN_MS;
    let last: QueryResult | string;
    for (;;) {
      last = await query('voice_gateway_voice_to_voice_seconds_count').catch((error: unknown) => String(error));
      if (typeof last !== 'string' && last.data?.result[0]?.value[1] === '1') break;
      if (prometheus.exitCode !== null) assert.fail(`prometheus exited with ${prometheus.exitCode}:\n${promOutput}`);
      if (Date.now() > deadline) assert.fail(`prometheus did not scrape the turn within ${SCRAPED_WITHIN_MS} ms; last answer ${JSON.stringify(last)}\n${promOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const buckets = await query('voice_gateway_voice_to_voice_seconds_bucket');
    assert.equal(buckets.status, 'success');
    const les = buckets.data!.result.map((series) => series.metric.le);
    assert.ok(les.includes('+Inf') && les.length > 5, `the histogram's buckets: ${les.join(', ')}`);
    assert.equal(buckets.data!.result.find((series) => series.metric.le === '+Inf')?.value[1], '1');
    const median = await query('histogram_quantile(0.5, sum by (le) (voice_gateway_voice_to_voice_seconds_bucket))');
    const seconds = Number(median.data?.result[0]?.value[1]);
    assert.ok(Number.isFinite(seconds) && seconds > 0, `a median voice-to-voice latency: ${JSON.stringify(median)}`);
    const turns = await query('voice_gateway_turns_total{outcome="completed"}');
    assert.equal(turns.data?.result[0]?.value[1], '1');
  });

  void it('accepts every query of the Grafana dashboard', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })));
    assert.ok(exprs.length >= 6, `the dashboard has queries: ${exprs.length}`);
    for (const { title, expr } of exprs) {
      // Grafana's own variables, as Grafana would fill them in.
      const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$__range', '1h').replaceAll('$instance', '.*');
      const answer = await query(promql);
      assert.equal(answer.status, 'success', `panel "${title}": ${promql} -> ${answer.error ?? ''}`);
    }
  });
});
