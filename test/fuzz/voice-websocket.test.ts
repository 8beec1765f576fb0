/**
 * Fuzzing voice.v1 over the WebSocket (/v1/voice) with fast-check, against a real gateway
 * process: requests with random fields in any order, their bytes mutated or cut, random bytes,
 * text frames and frames past MAX_MESSAGE_BYTES. Every session must answer the probe or close
 * with a clear code and reason; the process must live, with no internal error, and give its
 * memory back once the sessions close (support/fuzz.ts).
 */
import { after, before, describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { fuzzBudget, fuzzFor, startFuzzTarget, webSocketCase, type FuzzTarget } from '../support/fuzz.js';
import { isProbeAnswer, PROBE, voiceRequestBytes } from '../support/fuzz-voice.js';

let target: FuzzTarget;
before(async () => {
  target = await startFuzzTarget();
});
after(() => target.stop());

const frame: fc.Arbitrary<string | Uint8Array> = fc.oneof({ weight: 20, arbitrary: voiceRequestBytes }, { weight: 1, arbitrary: fc.string({ maxLength: 100 }) });

/** One session: its frames, then a probe that an open session answers in order. */
function runCase(frames: Array<string | Uint8Array>): Promise<void> {
  return webSocketCase({
    url: `ws://127.0.0.1:${target.gateway.httpPort}/v1/voice`,
    protocols: ['voice.v1'],
    frames: [...frames, ...PROBE],
    sendAt: 'open',
    isProbeAnswer: (data) => isProbeAnswer(fromBinary(pb.ConverseResponseSchema, data)),
  });
}

void describe('fuzzing voice.v1 over the WebSocket', { timeout: fuzzBudget().timeLimitMs + 600_000 }, () => {
  void it('every session gets an answer or a clear close; the process lives and gives its memory back', async (t) => {
    await runCase([]); // warm-up
    await target.markBaseline();
    const run = await fuzzFor(fc.array(frame, { minLength: 1, maxLength: 20 }), runCase);
    t.diagnostic(await target.checkAfterRun('voice.v1 over WebSocket', run));
  });
});
