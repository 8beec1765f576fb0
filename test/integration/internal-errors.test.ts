/**
 * The process-level guard (hardening issue, finding 3), against a real gateway process: a bug in
 * one session's work that escapes every handler (an exception thrown from a timer, a rejection
 * nobody handles) ends that session with a clear `internal` error, is logged with that session's
 * id and counted in voice_gateway_internal_errors_total, and every other session goes on talking.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import { healthStatus, openConverse, type ConverseCall } from '../support/grpc-call.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { scrape } from '../support/prometheus-text.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';

const FAULTY_LANGUAGE = 'zz-FAULT';
let llm: ScriptedServer;
let gateway: GatewayProcess;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'Still here.', tokenDelayMs: 2 });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, SCRIPTED_FAULT_LANGUAGE: FAULTY_LANGUAGE, TURN_END_SILENCE_MS: '400' });
});

after(async () => {
  await gateway.stop();
  await llm.close();
});

/** Waits (bounded) for the first event of `kind` at or after `from`. */
async function next<K extends NonNullable<pb.ConverseResponse['event']['case']>>(c: ConverseCall, kind: K, from = 0) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = c.events.slice(from).find((e) => e.event.case === kind);
    if (found) return found.event.value as Extract<pb.ConverseResponse['event'], { case: K }>['value'];
    if (Date.now() > deadline) throw new Error(`no ${kind}; got ${c.events.map((e) => e.event.case).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function started(language: string): Promise<{ call: ConverseCall; sessionId: string }> {
  const call = openConverse(gateway.grpcAddress);
  call.send({ case: 'start', value: { settings: { language } } });
  return { call, sessionId: (await next(call, 'ready')).sessionId };
}

function speak(call: ConverseCall, pcm: Int16Array): void {
  for (let at = 0; at < pcm.length; at += 1600) call.send({ case: 'audio', value: { data: bytesFromPcm16(pcm.subarray(at, at + 1600)) } });
}

const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
  const family = (await scrape(gateway.httpPort)).series.get(name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? NaN);
};

void describe('an internal error in one session', { timeout: 120_000 }, () => {
  void it('ends that session only: logged with its id, counted, and the others go on talking', async () => {
    const healthy = await started('en-US');
    const faulty = await started(FAULTY_LANGUAGE);
    speak(faulty.call, concat(silence(200), tone(300)));

    const error = await next(faulty.call, 'error');
    assert.equal(error.code, pb.ErrorCode.INTERNAL);
    assert.equal(error.sessionContinues, false);
    assert.match(error.message, /internal error: scripted fault/);
    const status = await faulty.call.status;
    assert.equal(status.code, grpc.status.INTERNAL);

    // The other session talks on: a spoken turn and a typed one.
    speak(healthy.call, concat(silence(200), tone(600), silence(700)));
    const spoken = await next(healthy.call, 'responseDone');
    assert.equal(spoken.status, pb.ResponseStatus.COMPLETED);
    const from = healthy.call.events.length;
    healthy.call.send({ case: 'text', value: { text: 'are you there' } });
    assert.equal((await next(healthy.call, 'responseDone', from)).heardText, 'Still here.');
    healthy.call.close();

    assert.equal(gateway.child.exitCode, null, 'the process lives');
    assert.equal(await healthStatus(gateway.grpcAddress, ''), 'SERVING');
    // Both escaped errors (the exception and the rejection) were laid at the faulty session's door.
    assert.equal(await counter('voice_gateway_internal_errors_total', { scope: 'session' }), 2);
    assert.equal(await counter('voice_gateway_internal_errors_total', { scope: 'process' }), 0);
    assert.equal(await counter('voice_gateway_sessions_ended_total', { reason: 'internal_error' }), 1);
    const logged = gateway
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; sessionId?: string; msg: string; err?: { message: string } });
    const lines = logged.filter((l) => l.level === 50 && l.sessionId === faulty.sessionId);
    assert.equal(lines.length, 2, JSON.stringify(logged));
    assert.ok(lines.every((l) => /scripted fault/.test(l.err?.message ?? '')));
    assert.ok(!logged.some((l) => l.sessionId === healthy.sessionId && l.level >= 50), 'the healthy session logged no error');
  });
});
