/**
 * Traces: an in-memory exporter receives one span per turn with its ASR, end-of-turn, LLM, TTS
 * and barge-in spans as children, and no words of the conversation unless TRACE_INCLUDE_TEXT.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ask } from '../../src/client/ask-client.js';
import { chooseExporter, tracingFromSettings, TurnTracing } from '../../src/observability/tracing.js';
import { ProviderError, type Providers } from '../../src/providers/types.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedGateway } from './scripted-gateway.js';

const QUESTION = 'what is the weather';
const REPLY = 'It is sunny today. Enjoy the warm weather outside.';
const words = (text: string) => text.split(/(?<= )/);
const utterance = (speechMs = 800, quietMs = 1200) => concat(silence(200), tone(speechMs), silence(quietMs));

function providers(llm = new ScriptedLlm({ reply: () => words(REPLY) }), tts = new ScriptedTts()): Providers {
  return { vad: new ScriptedVad(), asr: new ScriptedAsr([QUESTION, 'stop please']), llm, tts };
}

function traced(includeText = false) {
  const exporter = new InMemorySpanExporter();
  return { exporter, tracing: new TurnTracing(exporter, { includeText, processor: 'simple' }) };
}

/** The turn spans and, for each, its children by name. */
function turnsOf(spans: ReadableSpan[]) {
  return spans
    .filter((s) => s.name === 'voice.turn')
    .map((root) => {
      const children = spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId);
      return { root, children, named: (name: string) => children.filter((c) => c.name === name) };
    });
}

function textValues(span: ReadableSpan): string[] {
  const values = [...Object.values(span.attributes), ...span.events.flatMap((e) => Object.values(e.attributes ?? {}))];
  return values.filter((v): v is string => typeof v === 'string');
}

void describe('a span per turn', () => {
  void it('a spoken turn: asr, end-of-turn, llm (first token event) and one tts span per piece under the turn span', async () => {
    const { exporter, tracing } = traced();
    const d = new SessionDriver(providers(), sessionConfig(), tracing.forSession());
    await d.start();
    d.audio(utterance());
    assert.equal((await d.next('response_done')).status, 'completed');
    d.session.end();
    await d.finished;

    const spans = exporter.getFinishedSpans();
    const [turn, ...others] = turnsOf(spans);
    assert.ok(turn && others.length === 0, `one turn span in ${spans.map((s) => s.name).join(', ')}`);
    const { root, children, named } = turn;
    assert.equal(root.parentSpanContext, undefined, 'the turn span is a root');
    assert.equal(root.attributes['voice.session.id'], d.session.id);
    assert.equal(root.attributes['voice.turn.id'], 'turn_1');
    assert.equal(root.attributes['voice.response.status'], 'completed');
    assert.equal(typeof root.attributes['voice.latency.voice_to_voice_ms'], 'number');
    assert.equal(children.length, spans.length - 1, 'every other span is a child of the turn span');
    for (const child of children) assert.equal(child.spanContext().traceId, root.spanContext().traceId);

    assert.equal(named('voice.asr').length, 1);
    assert.equal(named('voice.end_of_turn').length, 1);
    const [llm] = named('voice.llm');
    assert.deepEqual(llm?.events.map((e) => e.name), ['first_token', 'first_piece']);
    const tts = named('voice.tts');
    assert.deepEqual(tts.map((s) => s.attributes['voice.tts.piece_index']), [0, 1]);
    assert.deepEqual(tts.map((s) => s.attributes['voice.tts.chars']), ['It is sunny today.'.length, 'Enjoy the warm weather outside.'.length]);
    assert.ok(tts.every((s) => s.events.some((e) => e.name === 'first_audio')));
    assert.equal(named('voice.barge_in').length, 0, 'no barge-in on a completed turn');

    const [rootStart, rootEnd] = [hrTimeToMilliseconds(root.startTime), hrTimeToMilliseconds(root.endTime)];
    for (const child of children) {
      const [start, end] = [hrTimeToMilliseconds(child.startTime), hrTimeToMilliseconds(child.endTime)];
      assert.ok(start >= rootStart && end <= rootEnd && start <= end, `${child.name} lies within the turn`);
    }
    for (const span of spans) {
      for (const value of textValues(span)) {
        assert.ok(!value.includes(QUESTION) && !value.includes('sunny'), `${span.name} carries no conversation text: ${value}`);
      }
    }
  });

  void it('an interrupted turn has a barge-in span under its turn span', async () => {
    const { exporter, tracing } = traced();
    const tts = new ScriptedTts({ msPerChar: 100 }); // long enough to speak over
    const d = new SessionDriver(providers(undefined, tts), sessionConfig(), tracing.forSession());
    await d.start();
    d.audio(utterance());
    await d.next('response_audio');
    d.audio(utterance(600));
    assert.equal((await d.next('response_done')).status, 'interrupted');
    d.session.end();
    await d.finished;

    const [first] = turnsOf(exporter.getFinishedSpans());
    assert.ok(first);
    assert.equal(first.root.attributes['voice.response.status'], 'interrupted');
    assert.equal(first.root.attributes['voice.barge_in'], true);
    const [bargeIn] = first.named('voice.barge_in');
    assert.ok(bargeIn, `a barge-in span among ${first.children.map((c) => c.name).join(', ')}`);
    assert.ok(Number(bargeIn.attributes['voice.barge_in.speech_ms']) >= 0);
    assert.ok(first.named('voice.tts').length >= 1, 'the piece that was speaking has its span');
  });

  void it('a failed reply marks the turn span as an error', async () => {
    const { exporter, tracing } = traced();
    const llm = new ScriptedLlm({ reply: () => [], failWith: new ProviderError('llm', 'the LLM server is down') });
    const d = new SessionDriver(providers(llm), sessionConfig(), tracing.forSession());
    await d.start();
    d.session.handle({ type: 'text', text: 'hello' });
    assert.equal((await d.next('response_done')).status, 'failed');
    d.session.end();
    await d.finished;
    const [turn] = turnsOf(exporter.getFinishedSpans());
    assert.equal(turn?.root.status.code, 2 /* SpanStatusCode.ERROR */);
  });

  void it('TRACE_INCLUDE_TEXT puts the transcript, the heard reply and each piece on the spans', async () => {
    const { exporter, tracing } = traced(true);
    const d = new SessionDriver(providers(), sessionConfig(), tracing.forSession());
    await d.start();
    d.audio(utterance());
    await d.next('response_done');
    d.session.end();
    await d.finished;
    const [turn] = turnsOf(exporter.getFinishedSpans());
    assert.equal(turn?.root.attributes['voice.transcript'], QUESTION);
    assert.equal(turn?.root.attributes['voice.response.heard_text'], REPLY);
    assert.deepEqual(turn?.named('voice.tts').map((s) => s.attributes['voice.tts.text']), ['It is sunny today.', 'Enjoy the warm weather outside.']);
  });

  void it('the gateway sends its turns to the exporter it is given', async () => {
    const exporter = new InMemorySpanExporter();
    const gateway = await startScriptedGateway({ traceExporter: exporter });
    let spans: ReadableSpan[];
    try {
      const result = await ask({ server: gateway.grpcAddress, pcm: silence(200), sampleRateHz: 16000, texts: ['hello tracing'], settleMs: 300, fast: true, timeoutMs: 30_000 });
      assert.deepEqual(result.errors, []);
      spans = exporter.getFinishedSpans(); // before close: shutting the exporter down empties it
    } finally {
      await gateway.close();
    }
    const [turn] = turnsOf(spans);
    assert.ok(turn, 'a turn span was exported');
    assert.equal(turn.named('voice.llm').length, 1);
    assert.equal(turn.named('voice.asr').length, 0, 'a typed turn has no recognition span');
  });
});

void describe('tracing is off unless asked for', () => {
  const settings = { exporter: '' as const, otlpEndpoint: '', includeText: false };
  void it('is off by default', () => assert.equal(chooseExporter(settings, {}), null));
  void it('is on with OTEL_TRACES_EXPORTER=otlp or console', () => {
    assert.equal(chooseExporter({ ...settings, exporter: 'otlp' }, {}), 'otlp');
    assert.equal(chooseExporter({ ...settings, exporter: 'console' }, {}), 'console');
  });
  void it('is on when an OTLP endpoint is set, unless OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true', () => {
    assert.equal(chooseExporter({ ...settings, otlpEndpoint: 'http://127.0.0.1:4318' }, {}), 'otlp');
    assert.equal(chooseExporter(settings, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), 'otlp');
    assert.equal(chooseExporter({ ...settings, exporter: 'none', otlpEndpoint: 'http://127.0.0.1:4318' }, {}), null);
    assert.equal(chooseExporter({ ...settings, exporter: 'otlp' }, { OTEL_SDK_DISABLED: 'true' }), null);
  });
});

void describe('OTLP export', () => {
  void it('with OTEL_EXPORTER_OTLP_ENDPOINT set, the turn spans are POSTed as OTLP protobuf to <endpoint>/v1/traces', async () => {
    const received: Array<{ path: string; contentType: string; body: Buffer }> = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const tracing = tracingFromSettings({ exporter: '', otlpEndpoint: endpoint, includeText: false }, {});
    assert.ok(tracing, 'an endpoint turns tracing on');
    try {
      const d = new SessionDriver(providers(), sessionConfig(), tracing.forSession());
      await d.start();
      d.session.handle({ type: 'text', text: 'hello collector' });
      await d.next('response_done');
      d.session.end();
      await d.finished;
      await tracing.forceFlush();
    } finally {
      await tracing.shutdown();
      collector.close();
    }
    assert.ok(received.length >= 1, 'the collector was called');
    const [request] = received;
    assert.equal(request?.path, '/v1/traces');
    assert.equal(request?.contentType, 'application/x-protobuf');
    // Span names travel as plain UTF-8 inside the protobuf; the words said do not travel at all.
    const body = Buffer.concat(received.map((r) => r.body)).toString('latin1');
    for (const name of ['voice.turn', 'voice.llm', 'voice.tts', 'voice-gateway']) assert.ok(body.includes(name), `${name} in the export`);
    assert.ok(!body.includes('hello collector'), 'no transcript in the export');
  });
});
