/** SIGTERM drains: NOT_SERVING, new sessions refused (retryable), active ones finish or are told to reconnect, exit 0. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { healthStatus as health, openConverse } from '../support/grpc-call.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer } from '../support/scripted-openai-server.js';

function converse(address: string) {
  const c = openConverse(address);
  c.send({ case: 'start', value: {} });
  return c;
}

void it('SIGTERM drains the gateway and it exits 0', async () => {
  const llm = await startScriptedOpenAiServer({ reply: 'ok' });
  const gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, DRAIN_GRACE_MS: '1500' });
  const active = converse(gateway.grpcAddress);
  for (let i = 0; i < 200 && active.events.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(active.events[0]?.event.case, 'ready');

  gateway.child.kill('SIGTERM');
  for (let i = 0; i < 200 && (await health(gateway.grpcAddress, 'voice.v1.VoiceGateway')) === 'SERVING'; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(await health(gateway.grpcAddress, 'voice.v1.VoiceGateway'), 'NOT_SERVING', 'readiness fails while draining');
  assert.equal(await health(gateway.grpcAddress, ''), 'SERVING', 'liveness holds: the process is still finishing its work');

  const late = converse(gateway.grpcAddress);
  const refused = await late.status;
  assert.equal(refused.code, grpc.status.UNAVAILABLE, 'a retryable status');
  assert.match(refused.details, /draining.*reconnect/);

  // The active session was still open at the end of the grace: it is told to reconnect.
  const ended = await active.status;
  assert.equal(ended.code, grpc.status.UNAVAILABLE);
  const goAway = active.events.find((e) => e.event.case === 'error');
  assert.equal(goAway?.event.case === 'error' && goAway.event.value.code, pb.ErrorCode.UNAVAILABLE);
  assert.match(goAway?.event.case === 'error' ? goAway.event.value.message : '', /reconnect/);

  const code = gateway.child.exitCode ?? ((await once(gateway.child, 'exit')) as [number | null])[0];
  assert.equal(code, 0);
  active.close();
  late.close();
  await llm.close();
});
