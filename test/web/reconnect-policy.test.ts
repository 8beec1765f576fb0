/** Which lost connections the web client retries on its own, and how soon. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/gen/voice/v1/voice_pb.js';
import { reconnectDelayMs, retriesOnItsOwn } from '../../web/src/reconnect-policy.js';

void describe('reconnect policy', () => {
  void it('waits longer after each failed attempt, up to a ceiling', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 50].map((n) => reconnectDelayMs(n)), [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });

  void it('comes back sooner when it holds a resume token: the gateway keeps the conversation only for a while', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 50].map((n) => reconnectDelayMs(n, true)), [250, 500, 1000, 2000, 4000, 4000]);
  });

  void it('retries a dropped network or a restarting gateway, not a refusal a retry would repeat', () => {
    assert.equal(retriesOnItsOwn(1006, undefined), true, 'network lost');
    assert.equal(retriesOnItsOwn(1001, ErrorCode.UNAVAILABLE), true, 'gateway draining');
    assert.equal(retriesOnItsOwn(1013, undefined), true, 'try again later');
    assert.equal(retriesOnItsOwn(1008, undefined), false, 'a broken limit');
    assert.equal(retriesOnItsOwn(1009, undefined), false, 'a frame too big');
    assert.equal(retriesOnItsOwn(1008, ErrorCode.UNAUTHENTICATED), false, 'a bad key');
    assert.equal(retriesOnItsOwn(1008, ErrorCode.RESOURCE_EXHAUSTED), false, 'idle or too long');
    assert.equal(retriesOnItsOwn(1012, ErrorCode.RECONNECT_TO_RESUME), true, 'the gateway saved the session and asks to resume it');
  });
});
