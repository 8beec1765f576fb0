/**
 * Fuzzing voice.v1 over the WebSocket (/v1/voice) with fast-check, against a real gateway
 * process: requests with random fields in any order, their bytes mutated or cut, random bytes,
 * text frames and frames past MAX_MESSAGE_BYTES. Every session must answer the probe or close
 * with a clear code and reason; the process must live, with no internal error, and give its
 * memory back once the sessions close (support/fuzz.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { fuzzBudget, fuzzFor, startFuzzTarget, within, type FuzzTarget } from '../support/fuzz.js';
import { isProbeAnswer, PROBE, voiceRequestBytes } from '../support/fuzz-voice.js';

let target: FuzzTarget;
before(async () => {
  target = await startFuzzTarget();
});
after(() => target.stop());

const CASE_WAIT_MS = 30_000;
const CLEAR_CLOSE_CODES = new Set([1000, 1001, 1008, 1009, 1011, 1013]);

const frame: fc.Arbitrary<string | Uint8Array> = fc.oneof({ weight: 20, arbitrary: voiceRequestBytes }, { weight: 1, arbitrary: fc.string({ maxLength: 100 }) });

async function runCase(frames: Array<string | Uint8Array>): Promise<{ answered: boolean; closed: { code: number; reason: string } | null }> {
  const ws = new WebSocket(`ws://127.0.0.1:${target.gateway.httpPort}/v1/voice`, ['voice.v1']);
  ws.on('error', () => undefined);
  let closed: { code: number; reason: string } | null = null;
  const closing = new Promise<void>((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => {
      closed = { code, reason: reason.toString() };
      resolve();
    }),
  );
  const answered = new Promise<boolean>((resolve) => {
    ws.on('open', () => {
      for (const f of [...frames, ...PROBE]) ws.send(f, { binary: typeof f !== 'string' });
    });
    ws.on('message', (data: Buffer) => {
      if (isProbeAnswer(fromBinary(pb.ConverseResponseSchema, data))) resolve(true);
    });
    void closing.then(() => resolve(false));
  });
  const gotAnswer = await within(answered, CASE_WAIT_MS, 'a voice.v1 WebSocket session neither answered the probe nor closed');
  if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  await within(closing, CASE_WAIT_MS, 'the socket did not close');
  return { answered: gotAnswer, closed };
}

void describe('fuzzing voice.v1 over the WebSocket', { timeout: fuzzBudget().timeLimitMs + 600_000 }, () => {
  void it('every session gets an answer or a clear close; the process lives and gives its memory back', async (t) => {
    await runCase([]); // warm-up
    await target.markBaseline();
    const run = await fuzzFor(fc.array(frame, { minLength: 1, maxLength: 20 }), async (frames) => {
      const { answered, closed } = await runCase(frames);
      if (answered) return;
      assert.ok(closed && CLEAR_CLOSE_CODES.has(closed.code) && closed.reason.length > 0, `no answer and no clear close: ${JSON.stringify(closed)}`);
    });
    t.diagnostic(await target.checkAfterRun('voice.v1 over WebSocket', run));
  });
});
