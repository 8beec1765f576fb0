/**
 * The event pump every transport shares: a real session's events into a sink whose buffer the
 * test fills and drains, as a client that reads, pauses or stops reading would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/core/events.js';
import { Session } from '../../src/core/session.js';
import { pumpEvents, type EventSink } from '../../src/transports/event-pump.js';
import { sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad } from '../support/scripted-providers.js';
import { waitUntil } from '../support/wait-until.js';

const words = (text: string) => text.split(/(?<= )/);

function session(reply: string, outboundQueueMaxBytes = 64 * 1024 * 1024): Session {
  return new Session(
    { vad: new ScriptedVad(), asr: new ScriptedAsr(['hello']), llm: new ScriptedLlm({ reply: () => words(reply) }), tts: new ScriptedTts() },
    sessionConfig({ outboundQueueMaxBytes }),
  );
}

/** A transport buffer of `capacity` events; `capacity` 0 never takes anything. */
class TestSink implements EventSink {
  readonly sent: ServerEvent[] = [];
  open = true;
  private buffered = 0;
  private wake: (() => void) | undefined;
  constructor(private capacity: number) {}

  send(event: ServerEvent): boolean {
    this.sent.push(event);
    this.buffered++;
    return this.buffered < this.capacity;
  }

  drained(stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      stop.addEventListener('abort', () => (this.wake = undefined), { once: true });
    });
  }

  /** The client read everything buffered. */
  drain(capacity = this.capacity): void {
    this.capacity = capacity;
    this.buffered = 0;
    this.wake?.();
  }

  get waiting(): boolean {
    return this.wake !== undefined;
  }
}


void describe('event pump', () => {
  void it('a client that keeps up gets every event in order, and the pump ends with the session', async () => {
    const s = session('Hello there.');
    const sink = new TestSink(Infinity);
    const pumped = pumpEvents(s, sink, { closeGraceMs: 1000 });
    s.handle({ type: 'start', settings: {}, metadata: {} });
    s.handle({ type: 'text', text: 'hi' });
    await waitUntil(() => sink.sent.some((e) => e.type === 'response_audio'), 'reply audio was sent', 10_000);
    s.handle({ type: 'interrupt' });
    await waitUntil(() => sink.sent.some((e) => e.type === 'turn_metrics'), 'the turn ended', 10_000);
    s.end();
    const end = await pumped;
    assert.equal(end.kind, 'done');
    const types = sink.sent.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(types, ['ready', 'transcript', 'response_started', 'response_text', 'response_audio', 'response_done', 'turn_metrics']);
  });

  void it('a full buffer pauses the pump until the client reads; nothing is lost or reordered', async () => {
    const s = session('Hello there. How are you today?');
    const sink = new TestSink(2);
    const pumped = pumpEvents(s, sink, { closeGraceMs: 1000 });
    s.handle({ type: 'start', settings: {}, metadata: {} });
    s.handle({ type: 'text', text: 'hi' });
    await waitUntil(() => sink.waiting, 'the pump waits for room', 10_000);
    const sentWhilePaused = sink.sent.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.sent.length, sentWhilePaused, 'nothing is sent while the buffer is full');
    sink.drain(Infinity);
    await waitUntil(() => sink.sent.some((e) => e.type === 'response_done'), 'the rest arrives once the client reads', 10_000);
    s.end();
    assert.equal((await pumped).kind, 'done');
    const offsets = sink.sent.flatMap((e) => (e.type === 'response_audio' ? [e.offsetMs] : []));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'audio in order');
  });

  void it('a client that stops reading: the session closes as too slow and the pump gives up at once', { timeout: 20_000 }, async () => {
    const s = session('This reply is long. '.repeat(40), 64 * 1024);
    const sink = new TestSink(0);
    // A grace far longer than the test's timeout: giving up must not wait for it.
    const pumped = pumpEvents(s, sink, { closeGraceMs: 60_000 });
    s.handle({ type: 'start', settings: {}, metadata: {} });
    s.handle({ type: 'text', text: 'talk for a long time' });
    const end = await pumped;
    assert.equal(end.kind, 'stuck');
    assert.equal(s.closeCause, 'client_too_slow');
    assert.match(s.closeReason ?? '', /the client stopped reading/);
  });

  void it('a session that ends while the client is behind leaves it the grace to catch up', async () => {
    const s = session('Hello there.');
    const sink = new TestSink(1);
    const pumped = pumpEvents(s, sink, { closeGraceMs: 60_000 });
    s.handle({ type: 'start', settings: {}, metadata: {} });
    await waitUntil(() => sink.waiting, 'the pump waits for room', 10_000);
    s.handle({ type: 'text', text: 'hi' });
    await new Promise((r) => setTimeout(r, 50));
    s.end();
    sink.drain(Infinity); // the client reads again within the grace
    const end = await pumped;
    assert.equal(end.kind, 'done');
    assert.ok(sink.sent.some((e) => e.type === 'transcript'), 'events queued before the end were still sent');
  });

  void it('... and is stuck once the grace has passed without it reading', async () => {
    const s = session('Hello there.');
    const sink = new TestSink(1);
    const pumped = pumpEvents(s, sink, { closeGraceMs: 50 });
    s.handle({ type: 'start', settings: {}, metadata: {} });
    s.handle({ type: 'text', text: 'hi' });
    await waitUntil(() => sink.waiting, 'the pump waits for room', 10_000);
    s.end();
    assert.equal((await pumped).kind, 'stuck');
  });

  void it('a client that goes away ends the pump as gone', async () => {
    const s = session('Hello there.');
    const sink = new TestSink(1);
    const pumped = pumpEvents(s, sink, { closeGraceMs: 1000 });
    s.handle({ type: 'start', settings: {}, metadata: {} });
    await waitUntil(() => sink.waiting, 'the pump waits for room', 10_000);
    sink.open = false;
    sink.drain(); // a transport wakes its waiters when the socket closes
    s.handle({ type: 'text', text: 'hi' });
    assert.equal((await pumped).kind, 'gone');
    s.close('test over');
  });
});
