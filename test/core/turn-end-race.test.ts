/**
 * Finding 2 of the hardening issue: the end of a spoken turn waits for the recognizer's last
 * final (a recognizer whose final lags the VAD: Riva, pocketsphinx, the simulated blueprint
 * profile) while the session goes on taking client events. An item created in that window with
 * the id that `speech_started` announced for the turn must be refused, not accepted and then make
 * the turn's own item fail with nothing to catch it (which ended the process).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AsrResult, AsrStream, Providers, SpeechRecognizer } from '../../src/providers/types.js';
import { SessionDriver } from '../support/session-harness.js';
import { ScriptedLlm, ScriptedTts, ScriptedVad, concat, delay, silence, tone } from '../support/scripted-providers.js';
import { rms } from '../support/speech-fixtures.js';

/** Partials while it hears sound; its final comes only `finalLagMs` after the stream is ended. */
class LaggingAsr implements SpeechRecognizer {
  readonly sampleRateHz = 16000;
  constructor(private readonly finalLagMs: number) {}

  stream(): AsrStream {
    const results: AsrResult[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    let heard = false;
    const push = (result: AsrResult | null) => {
      if (result) results.push(result);
      else done = true;
      wake?.();
    };
    const lagMs = this.finalLagMs;
    return {
      write(pcm) {
        if (rms(pcm) > 500 && !heard) {
          heard = true;
          push({ kind: 'partial', text: 'what is' });
        }
      },
      end() {
        setTimeout(() => {
          if (heard) push({ kind: 'final', text: 'what is the weather' });
          push(null);
        }, lagMs);
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = results.shift();
          if (next) yield next;
          else if (done) return;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    };
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
before(() => process.on('unhandledRejection', onUnhandled));
after(() => process.off('unhandledRejection', onUnhandled));

void describe('the end of a spoken turn while the recognizer flushes', () => {
  void it("an item created with the turn's announced id is refused, and the turn is answered", async () => {
    const providers: Providers = {
      vad: new ScriptedVad(),
      asr: new LaggingAsr(300),
      llm: new ScriptedLlm({ reply: () => ['Sunny.'] }),
      tts: new ScriptedTts(),
    };
    const d = new SessionDriver(providers);
    d.session.handle({ type: 'start', settings: {}, metadata: {}, itemEvents: true });
    await d.next('ready');
    d.audio(concat(silence(200), tone(800), silence(800)));
    // The turn ended (VAD) and waits for the final; this arrives in that window.
    d.session.handle({ type: 'add_item', item: { id: 'turn_1', role: 'user', text: 'sneaky' }, ref: 'race' });

    const refused = await d.next('error', (e) => e.ref === 'race');
    assert.equal(refused.reason, 'item_exists', d.summary());
    assert.equal(refused.sessionContinues, true);
    const final = await d.next('transcript', (e) => e.stability === 'final');
    assert.equal(final.turnId, 'turn_1');
    assert.equal((await d.next('response_done')).status, 'completed', d.summary());
    const userItems = d.all('item_added').filter((e) => e.item.role === 'user');
    assert.deepEqual(userItems.map((e) => [e.item.id, e.item.text]), [['turn_1', 'what is the weather']]);
    await delay(50);
    assert.deepEqual(unhandled, [], 'nothing escaped the session');
    d.session.end();
  });
});
