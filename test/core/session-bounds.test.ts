/**
 * Bounds of one session that no client can get around (hardening issue, findings 3, 5 and 7):
 * the time to `start`, refused messages that are not activity, the outbound queue counted in real
 * bytes, client text never echoed whole, a user turn that cannot grow without end, and a bug in
 * one session's own background work that ends that session only.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Session, type SessionObserver } from '../../src/core/session.js';
import type { Providers } from '../../src/providers/types.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, delay, silence, tone } from '../support/scripted-providers.js';

function providers(asr = new ScriptedAsr(['what is the weather', 'and tomorrow'])): Providers {
  return { vad: new ScriptedVad(), asr, llm: new ScriptedLlm({ reply: () => ['Sunny ', 'today.'] }), tts: new ScriptedTts() };
}

async function closed(session: Session): Promise<void> {
  if (!session.closedSignal.aborted) await once(session.closedSignal, 'abort');
}

void describe('the time to start', { timeout: 30_000 }, () => {
  void it('a connection that never sends start is closed after START_TIMEOUT_MS, with a reason', async () => {
    const d = new SessionDriver(providers(), sessionConfig({ startTimeoutMs: 200 }));
    const error = await d.next('error');
    assert.equal(error.sessionContinues, false);
    assert.match(error.message, /no "start" message came within 0.2 s/);
    await closed(d.session);
    assert.equal(d.session.closeCause, 'start_timeout');
  });

  void it('a session that started in time is not closed by it', async () => {
    const d = new SessionDriver(providers(), sessionConfig({ startTimeoutMs: 200 }));
    await d.start();
    await delay(400);
    assert.equal(d.session.closeCause, undefined, d.summary());
    d.session.end();
  });
});

void describe('refused messages are not activity', { timeout: 30_000 }, () => {
  void it('garbage frames do not keep an idle session open', async () => {
    const d = new SessionDriver(providers(), sessionConfig({ idleTimeoutMs: 300 }));
    await d.start();
    const garbage = setInterval(() => d.session.rejectMessage('not a ConverseRequest'), 50);
    try {
      await closed(d.session);
    } finally {
      clearInterval(garbage);
    }
    assert.equal(d.session.closeCause, 'idle_timeout');
  });

  void it('events the session refuses do not keep it open either; accepted ones do', async () => {
    const d = new SessionDriver(providers(), sessionConfig({ idleTimeoutMs: 400 }));
    d.session.handle({ type: 'start', settings: {}, metadata: {}, itemEvents: true });
    await d.next('ready');
    const started = Date.now();
    const accepted = setInterval(() => d.session.handle({ type: 'interrupt' }), 50);
    await delay(700);
    clearInterval(accepted);
    assert.equal(d.session.closeCause, undefined, 'accepted events are activity');
    const refused = setInterval(() => d.session.handle({ type: 'get_item', itemId: 'nope' }), 50);
    try {
      await closed(d.session);
    } finally {
      clearInterval(refused);
    }
    assert.equal(d.session.closeCause, 'idle_timeout');
    assert.ok(Date.now() - started >= 700);
  });
});

void describe('the outbound queue counts real bytes', { timeout: 30_000 }, () => {
  void it('text events count their size: a client that does not read is cut off', async () => {
    // Nobody reads session.events: a client that stopped reading.
    const session = new Session(providers(), sessionConfig({ outboundQueueMaxBytes: 256 * 1024 }));
    session.handle({ type: 'start', settings: {}, metadata: {}, itemEvents: true });
    const instructions = 'x'.repeat(19_000);
    // Each answer (settings_updated) carries the whole instructions: ~19 kB, not 64 bytes.
    for (let i = 0; i < 20; i++) session.handle({ type: 'update', settings: { instructions: `${i}${instructions}` } });
    await closed(session);
    assert.equal(session.closeCause, 'client_too_slow');
  });
});

void describe('client text is never echoed whole', () => {
  void it('a 1 MB language is refused with its length, not its text', async () => {
    const errors: string[] = [];
    const d = new SessionDriver(providers(), sessionConfig(), { onError: (_code, message) => errors.push(message) });
    await d.start();
    d.session.handle({ type: 'update', settings: { language: 'x'.repeat(1_000_000) }, ref: 'big' });
    const error = await d.next('error', (e) => e.ref === 'big');
    assert.ok(error.message.length < 300, `the message is ${error.message.length} characters`);
    assert.match(error.message, /1000000 characters/);
    assert.ok(errors.every((m) => m.length < 300), 'observers (logs) get the cut message too');
    d.session.end();
  });

  void it('a voice of odd characters or length is refused', async () => {
    const d = new SessionDriver(providers());
    await d.start();
    d.session.handle({ type: 'update', settings: { voice: 'a'.repeat(500) }, ref: 'long' });
    d.session.handle({ type: 'update', settings: { voice: 'en\n{"x":1}' }, ref: 'odd' });
    d.session.handle({ type: 'update', settings: { voice: 'Magpie-Multilingual.EN-US.Aria' }, ref: 'fine' });
    assert.match((await d.next('error', (e) => e.ref === 'long')).message, /voice is 500 characters long: at most 128/);
    assert.match((await d.next('error', (e) => e.ref === 'odd')).message, /voice .* may hold only letters, digits/);
    await delay(100);
    assert.equal(d.all('error').filter((e) => e.ref === 'fine').length, 0, d.summary());
    d.session.end();
  });
});

void describe('a user turn has a maximum length', () => {
  void it('speech past TURN_MAX_SPEECH_MS ends the turn and it is answered', async () => {
    // A recognizer that never sends a final by itself (tone without pause): the turn only grows.
    const d = new SessionDriver(providers(new ScriptedAsr(['a very long monologue'], 600_000)), sessionConfig({ turnMaxSpeechMs: 2000 }));
    await d.start();
    d.audio(concat(silence(200), tone(6000)));
    const final = await d.next('transcript', (e) => e.stability === 'final');
    assert.equal(final.turnId, 'turn_1');
    const started = d.events.findIndex((e) => e.type === 'speech_started');
    const ended = d.events.indexOf(final);
    const partials = d.events.slice(started, ended).filter((e) => e.type === 'transcript').length;
    assert.ok(partials <= 25, `the turn ended after about 2 s of speech (${partials} partials, one per 100 ms chunk)`);
    await d.next('response_started');
    d.session.end();
  });
});

void describe('a bug in one session ends that session only', { timeout: 30_000 }, () => {
  void it("an exception in a reply's ending closes its session with an internal error; another session goes on", async () => {
    const internal: unknown[] = [];
    const faulty: SessionObserver = {
      onTurn: () => {
        throw new Error('observer bug');
      },
      onInternalError: (error) => internal.push(error),
    };
    const broken = new SessionDriver(providers(), sessionConfig(), faulty);
    const healthy = new SessionDriver(providers());
    await broken.start();
    await healthy.start();
    broken.session.handle({ type: 'text', text: 'hello' });
    const error = await broken.next('error', (e) => e.code === 'internal');
    assert.equal(error.sessionContinues, false);
    assert.match(error.message, /internal error: observer bug/);
    await closed(broken.session);
    assert.equal(broken.session.closeCause, 'internal_error');
    assert.equal(internal.length, 1);
    for (const text of ['hello', 'and again']) {
      const from = healthy.all('response_done').length;
      healthy.session.handle({ type: 'text', text });
      await healthy.next('response_done', (e) => healthy.all('response_done').indexOf(e) >= from);
    }
    assert.deepEqual(healthy.all('response_done').map((e) => e.status), ['completed', 'completed']);
    healthy.session.end();
  });
});
