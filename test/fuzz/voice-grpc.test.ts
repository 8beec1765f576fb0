/**
 * Fuzzing voice.v1 over gRPC (VoiceGateway/Converse) with fast-check, against a real gateway
 * process: requests with random fields in any order, their bytes mutated or cut, random bytes and
 * messages past MAX_MESSAGE_BYTES, sent raw on a real HTTP/2 call. Every call must answer the
 * probe or end with a status that says why; the process must live, with no internal error, and
 * give its memory back once the calls end (support/fuzz.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { fuzzBudget, fuzzFor, startFuzzTarget, within, type FuzzTarget } from '../support/fuzz.js';
import { isProbeAnswer, PROBE, voiceRequestBytes } from '../support/fuzz-voice.js';

let target: FuzzTarget;
let client: grpc.Client;
before(async () => {
  target = await startFuzzTarget();
  client = new grpc.Client(target.gateway.grpcAddress, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
});
after(async () => {
  client.close();
  await target.stop();
});

const CASE_WAIT_MS = 30_000;

async function runCase(messages: Uint8Array[]): Promise<{ answered: boolean; status: grpc.StatusObject }> {
  // Raw bytes go out as they are: the server, not this client, decides what they mean.
  const call = client.makeBidiStreamRequest(
    '/voice.v1.VoiceGateway/Converse',
    (bytes: Uint8Array) => Buffer.from(bytes),
    (bytes: Buffer) => fromBinary(pb.ConverseResponseSchema, bytes),
  );
  call.on('error', () => undefined); // the status says it
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  const answered = new Promise<boolean>((resolve) => {
    call.on('data', (response: pb.ConverseResponse) => {
      if (isProbeAnswer(response)) resolve(true);
    });
    void status.then(() => resolve(false));
  });
  for (const message of [...messages, ...PROBE]) call.write(message);
  const gotAnswer = await within(answered, CASE_WAIT_MS, 'a Converse call neither answered the probe nor ended');
  call.end();
  return { answered: gotAnswer, status: await within(status, CASE_WAIT_MS, 'the call did not end') };
}

void describe('fuzzing voice.v1 over gRPC', { timeout: fuzzBudget().timeLimitMs + 600_000 }, () => {
  void it('every call gets an answer or a status that says why; the process lives and gives its memory back', async (t) => {
    await runCase([]); // warm-up
    await target.markBaseline();
    const run = await fuzzFor(fc.array(voiceRequestBytes, { minLength: 1, maxLength: 20 }), async (messages) => {
      const { answered, status } = await runCase(messages);
      if (answered) return;
      assert.ok(status.code !== grpc.status.OK && status.code !== grpc.status.UNKNOWN && status.details.length > 0, `no answer and no clear status: ${JSON.stringify(status)}`);
    });
    t.diagnostic(await target.checkAfterRun('voice.v1 over gRPC', run));
  });
});
