/**
 * The session stores keep one contract: the same cases run against the memory store and against a
 * real redis-server (the Lua scripts), so the two never drift apart. Then what only Redis has:
 * TLS with a password, and a Redis that is down or answers nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemorySessionStore } from '../../src/resume/memory-store.js';
import { RedisSessionStore } from '../../src/resume/redis-store.js';
import type { SaveRequest, SessionStore, StoreTiming } from '../../src/resume/session-store.js';
import { GuardedStore, StoreUnavailableError, type StoreOperation } from '../../src/resume/store-guard.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

const TIMING: StoreTiming = { windowMs: 400, leaseMs: 600 };
/** For cases that are not about expiry: a loaded machine must not expire their records. */
const LONG: StoreTiming = { windowMs: 60_000, leaseMs: 30_000 };
let redis: RedisServer;
let sequence = 0;

before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis?.stop();
});

function record(overrides: Partial<SaveRequest> = {}): SaveRequest {
  return { sessionId: `sess_${++sequence}`, subject: 'subject-a', generation: 1, snapshot: '{"v":1}', owner: 'replica-a', detached: false, ...overrides };
}

const until = async (ok: () => boolean | Promise<boolean>) => {
  while (!(await ok())) await new Promise((r) => setTimeout(r, 20));
};

const stores: Array<[string, (timing: StoreTiming) => SessionStore]> = [
  ['memory', (timing) => new MemorySessionStore(timing)],
  ['redis', (timing) => new RedisSessionStore({ url: redis.url, keyPrefix: `test${process.pid}:`, timeoutMs: 2000, timing })],
];

for (const [name, make] of stores) {
  void describe(`${name} session store`, () => {
    // Expiry cases use a short window; the others a long one, so that a loaded machine expires nothing.
    let store: SessionStore;
    let shortLived: SessionStore;
    before(() => {
      store = make(LONG);
      shortLived = make(TIMING);
    });
    after(async () => {
      await store.close();
      await shortLived.close();
    });

    void it('a detached session is claimed with its token: the state comes back and the generation rises', async () => {
      const saved = record({ snapshot: '{"history":["hello"]}', detached: true });
      assert.equal(await store.save(saved), 'saved');
      const claim = await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'replica-b' });
      assert.deepEqual(claim, { ok: true, snapshot: '{"history":["hello"]}', generation: 2, previousOwner: 'replica-a', wasLive: false });
    });

    void it('the current token takes over a session that still counts as live (the client came back first)', async () => {
      const saved = record();
      await store.save(saved);
      const claim = await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'replica-b' });
      assert.equal(claim.ok && claim.wasLive, true);
    });

    void it('a token already used is refused while the session it resumed is live, and accepted once it is gone', async () => {
      const saved = record({ detached: true });
      await store.save(saved);
      const first = await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'replica-b' });
      assert.ok(first.ok);
      assert.deepEqual(await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'replica-c' }), { ok: false, problem: 'used' });
      // The holder's connection drops: no second live session can result any more.
      assert.equal(await store.save({ ...saved, generation: 2, owner: 'replica-b', detached: true }), 'saved');
      const again = await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'replica-c' });
      assert.equal(again.ok && again.generation, 3);
    });

    void it('a token from the future is refused as used', async () => {
      const saved = record({ detached: true });
      await store.save(saved);
      assert.deepEqual(await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 5, owner: 'b' }), { ok: false, problem: 'used' });
    });

    void it('another subject gets nothing, and the session stays claimable by its own', async () => {
      const saved = record({ detached: true });
      await store.save(saved);
      assert.deepEqual(await store.claim({ sessionId: saved.sessionId, subject: 'subject-b', generation: 1, owner: 'b' }), { ok: false, problem: 'other_subject' });
      assert.ok((await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'b' })).ok);
    });

    void it('an unknown session is missing', async () => {
      assert.deepEqual(await store.claim({ sessionId: 'sess_nowhere', subject: 'subject-a', generation: 1, owner: 'b' }), { ok: false, problem: 'missing' });
    });

    void it('a save from a holder that lost the session is refused (fencing)', async () => {
      const saved = record();
      await store.save(saved);
      assert.ok((await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'replica-b' })).ok);
      assert.equal(await store.save({ ...saved, snapshot: '{"stale":true}' }), 'superseded');
      assert.deepEqual(await store.renew([{ sessionId: saved.sessionId, generation: 1 }]), { superseded: [saved.sessionId], missing: [] });
      const claim = await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 2, owner: 'replica-c' });
      assert.equal(claim.ok && claim.snapshot, '{"v":1}', 'the stale state was not written');
    });

    void it('a detached session expires after the window', async () => {
      const saved = record({ detached: true });
      await shortLived.save(saved);
      await new Promise((r) => setTimeout(r, TIMING.windowMs + 50));
      const claim = await shortLived.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'b' });
      assert.equal(claim.ok, false);
      assert.ok(!claim.ok && ['missing', 'expired'].includes(claim.problem), JSON.stringify(claim));
    });

    void it('a live session whose holder stopped renewing expires a window after its lease', async () => {
      const renewed = record();
      const abandoned = record();
      await shortLived.save(renewed);
      await shortLived.save(abandoned);
      const deadline = Date.now() + TIMING.leaseMs + TIMING.windowMs + 100;
      while (Date.now() < deadline) {
        assert.deepEqual(await shortLived.renew([{ sessionId: renewed.sessionId, generation: 1 }]), { superseded: [], missing: [] });
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(await shortLived.renew([{ sessionId: abandoned.sessionId, generation: 1 }]), { superseded: [], missing: [abandoned.sessionId] });
      assert.equal((await shortLived.claim({ sessionId: abandoned.sessionId, subject: 'subject-a', generation: 1, owner: 'b' })).ok, false);
      assert.equal((await shortLived.claim({ sessionId: renewed.sessionId, subject: 'subject-a', generation: 1, owner: 'b' })).ok, true);
    });

    void it('a removed session resumes nothing', async () => {
      const saved = record();
      await store.save(saved);
      await store.remove(saved.sessionId, 1);
      assert.deepEqual(await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'b' }), { ok: false, problem: 'missing' });
    });
  });
}

void describe('redis session store: TLS, password, outages', () => {
  let ca: TestCa;
  before(() => {
    ca = makeTestCa();
  });
  after(() => ca?.remove());

  void it('talks TLS to a server signed by a private CA, with a password', async () => {
    const secure = await startRedisServer({ password: 'test-redis-password', tls: { certFile: ca.files.serverCert, keyFile: ca.files.serverKey, caFile: ca.files.ca } });
    const store = new RedisSessionStore({ url: secure.url, password: 'test-redis-password', caFile: ca.files.ca, keyPrefix: 't:', timeoutMs: 2000, timing: LONG });
    try {
      const saved = record({ detached: true });
      assert.equal(await store.save(saved), 'saved');
      assert.ok((await store.claim({ sessionId: saved.sessionId, subject: 'subject-a', generation: 1, owner: 'b' })).ok);
    } finally {
      await store.close();
      await secure.stop();
    }
  });

  void it('a wrong password fails the call with the reason, bounded in time', async () => {
    const secured = await startRedisServer({ password: 'right-password' });
    const errors: string[] = [];
    const guard = new GuardedStore(new RedisSessionStore({ url: secured.url, password: 'wrong-password', keyPrefix: 't:', timeoutMs: 500, timing: TIMING }), 500, {
      onStoreError: (_op, message) => errors.push(message),
    });
    try {
      await assert.rejects(guard.save(record()), StoreUnavailableError);
      assert.ok(errors.length > 0);
    } finally {
      await guard.store.close();
      await secured.stop();
    }
  });

  void it('Redis that answers nothing or is gone fails each call within the timeout, warns once per outage, and recovers', async () => {
    const own = await startRedisServer();
    const seen: Array<[StoreOperation, boolean]> = [];
    let recovered = 0;
    const guard = new GuardedStore(new RedisSessionStore({ url: own.url, keyPrefix: 't:', timeoutMs: 300, timing: TIMING }), 300, {
      onStoreError: (op, _message, outageStarted) => seen.push([op, outageStarted]),
      onStoreRecovered: () => recovered++,
    });
    try {
      assert.equal(await guard.save(record()), 'saved');
      own.pause(); // slow: the socket is open and nothing answers
      for (let i = 0; i < 3; i++) await assert.rejects(guard.save(record()), /did not answer within 300 ms|timed out/i);
      assert.equal(seen.filter(([, started]) => started).length, 1, `one outage: ${JSON.stringify(seen)}`);
      own.unpause();
      await until(async () => (await guard.save(record()).then(() => true, () => false)));
      assert.equal(recovered, 1);
      await own.stop(); // down: refused connections
      await assert.rejects(guard.claim({ sessionId: 'sess_x', subject: 's', generation: 1, owner: 'a' }), StoreUnavailableError);
      await own.start();
      await until(async () => (await guard.save(record()).then(() => true, () => false)));
      assert.equal(recovered, 2);
    } finally {
      own.unpause();
      await guard.store.close();
      await own.stop();
    }
  });
});
