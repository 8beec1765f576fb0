/**
 * GET /metrics: Prometheus text that a parser accepts, counting what a scripted conversation did,
 * with label values from small fixed sets only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ask } from '../../src/client/ask-client.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { parseExposition, scrape, valueOf, type MetricFamily } from '../support/prometheus-text.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedGateway, untilNoSessions } from './scripted-gateway.js';

const LOOKS_LIKE_AN_ID = /sess_|turn_|resp_|[0-9a-f]{8}-?[0-9a-f]{4}/i;

function allLabelValues(families: Map<string, MetricFamily>): string[] {
  return [...families.values()].flatMap((family) => family.metrics.flatMap((m) => Object.values(m.labels ?? {})));
}

void describe('GET /metrics on the HTTP port', () => {
  let gateway: Awaited<ReturnType<typeof startScriptedGateway>>;
  before(async () => {
    gateway = await startScriptedGateway();
  });
  after(async () => {
    await gateway.close();
  });

  void it('counts one typed turn: a completed turn, one voice-to-voice sample, no session left open', async () => {
    const result = await ask({ server: gateway.grpcAddress, pcm: silence(200), sampleRateHz: 16000, texts: ['hello gateway'], settleMs: 300, fast: true, timeoutMs: 30_000 });
    assert.deepEqual(result.errors, []);
    assert.equal(result.turns[0]?.response_status, 'completed');
    await untilNoSessions(gateway.httpPort);

    const { families, series, contentType, text } = await scrape(gateway.httpPort);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(valueOf(series, 'voice_gateway_turns_total', { outcome: 'completed' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_turns_total', { outcome: 'interrupted' }), 0);
    assert.equal(families.get('voice_gateway_voice_to_voice_seconds')?.type, 'HISTOGRAM');
    assert.equal(valueOf(series, 'voice_gateway_voice_to_voice_seconds_count'), 1);
    assert.equal(valueOf(series, 'voice_gateway_turn_stage_seconds_count', { stage: 'llm_ttft' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_turn_stage_seconds_count', { stage: 'tts_ttfb' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_sessions_started_total'), 1);
    assert.equal(valueOf(series, 'voice_gateway_sessions_ended_total', { reason: 'client_ended' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_sessions_active'), 0);
    assert.ok(valueOf(series, 'voice_gateway_audio_seconds_total', { direction: 'in' }) > 0, 'audio in counted');
    const outS = valueOf(series, 'voice_gateway_audio_seconds_total', { direction: 'out' });
    const sentMs = result.turns[0]?.reply_audio_ms ?? 0;
    assert.ok(sentMs > 0 && Math.abs(outS * 1000 - sentMs) < 50, `audio out ${outS} s vs ${sentMs} ms sent`);
    assert.equal(valueOf(series, 'voice_gateway_barge_ins_total'), 0);
    assert.equal(valueOf(series, 'voice_gateway_speculative_starts_total', { outcome: 'hit' }), 0);

    // The default process metrics the benchmark samples, and the event-loop delay.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_seconds']) {
      assert.ok(families.has(name), `${name} is exported`);
    }
    const values = allLabelValues(series);
    assert.ok(values.length > 10, 'labels were read');
    for (const value of values) assert.doesNotMatch(value, LOOKS_LIKE_AN_ID, `label value ${value} looks like an id`);
    assert.ok(!text.includes(result.sessionId), 'the session id appears nowhere');
  });

  void it('answers other methods with 405', async () => {
    const response = await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`, { method: 'POST' });
    assert.equal(response.status, 405);
    assert.match(await response.text(), /use GET \/metrics/);
  });
});

void describe('metrics of spoken turns, barge-ins and failures', () => {
  const words = (text: string) => text.split(/(?<= )/);

  void it('a barge-in counts an interrupted turn, a barge-in and the stages that were measured', async () => {
    const metrics = new GatewayMetrics({ latencyBucketsS: [0.1, 1, 10], providers: { vad: 'scripted', asr: 'scripted', llm: 'scripted', tts: 'scripted' } });
    const llm = new ScriptedLlm({ reply: () => words('A very slow answer.'), tokenDelayMs: 5000 });
    const d = new SessionDriver({ vad: new ScriptedVad(), asr: new ScriptedAsr(['what is the weather', 'stop']), llm, tts: new ScriptedTts() }, sessionConfig(), metrics.observer);
    await d.start();
    d.audio(concat(silence(200), tone(800), silence(1200)));
    await d.next('response_started');
    d.audio(concat(silence(200), tone(600), silence(1200)));
    assert.equal((await d.next('response_done')).status, 'interrupted');
    d.session.end();
    await d.finished;

    const { families, series } = parseExposition(await metrics.registry.metrics());
    assert.equal(valueOf(series, 'voice_gateway_barge_ins_total'), 1);
    assert.equal(valueOf(series, 'voice_gateway_turns_total', { outcome: 'interrupted' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_turn_stage_seconds_count', { stage: 'eou_delay' }), 1, 'a spoken turn has an end-of-turn delay');
    assert.equal(valueOf(series, 'voice_gateway_voice_to_voice_seconds_count'), 0, 'no audio came before the barge-in');
    const buckets = Object.keys(families.get('voice_gateway_voice_to_voice_seconds')!.metrics[0]!.buckets ?? {});
    assert.deepEqual(buckets.sort(), ['+Inf', '0.1', '1', '10'].sort(), 'buckets from the setting');
  });

  void it('a failing LLM counts a failed turn and a backend error labelled by backend and provider', async () => {
    const { ProviderError } = await import('../../src/providers/types.js');
    const metrics = new GatewayMetrics({ latencyBucketsS: [1], providers: { vad: 'silero', asr: 'pocketsphinx', llm: 'openai', tts: 'espeak' } });
    const llm = new ScriptedLlm({ reply: () => [], failWith: new ProviderError('llm', 'the LLM server is down') });
    const d = new SessionDriver({ vad: new ScriptedVad(), asr: new ScriptedAsr([]), llm, tts: new ScriptedTts() }, sessionConfig(), metrics.observer);
    await d.start();
    d.session.handle({ type: 'text', text: 'hello' });
    assert.equal((await d.next('response_done')).status, 'failed');
    d.session.end();
    await d.finished;

    const { series } = parseExposition(await metrics.registry.metrics());
    assert.equal(valueOf(series, 'voice_gateway_turns_total', { outcome: 'failed' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_backend_errors_total', { backend: 'llm', provider: 'openai', code: 'llm_unavailable' }), 1);
    assert.equal(valueOf(series, 'voice_gateway_errors_total', { code: 'llm_unavailable' }), 1);
  });

  void it('speculative starts are counted by outcome', async () => {
    const metrics = new GatewayMetrics({ latencyBucketsS: [1], providers: { vad: 'x', asr: 'x', llm: 'x', tts: 'x' } });
    const report = (speculative: 'hit' | 'miss' | 'none') => ({
      metrics: { turnId: 'turn_1', responseId: 'resp_1', speculative },
      status: 'completed' as const,
      turn: {},
      reply: {},
      endedAt: performance.now(),
      userText: '',
      heardText: '',
      audioSentMs: 0,
    });
    metrics.observer.onTurn(report('hit'));
    metrics.observer.onTurn(report('hit'));
    metrics.observer.onTurn(report('miss'));
    metrics.observer.onTurn(report('none'));
    const { series } = parseExposition(await metrics.registry.metrics());
    assert.equal(valueOf(series, 'voice_gateway_speculative_starts_total', { outcome: 'hit' }), 2);
    assert.equal(valueOf(series, 'voice_gateway_speculative_starts_total', { outcome: 'miss' }), 1);
  });
});
