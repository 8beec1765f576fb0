/**
 * The core's item-level events, which item-aware transports (the OpenAI Realtime dialect) map
 * onto: replies on request, items added, cut, deleted and read by id, cleared input, and the
 * errors each can give. Scripted providers; audio decides in audio time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SettingsPatch } from '../../src/core/events.js';
import type { Providers } from '../../src/providers/types.js';
import { SessionDriver } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, silence, tone } from '../support/scripted-providers.js';

const words = (text: string) => text.split(/(?<= )/);
const REPLY = 'one two three four five. six seven eight nine ten.';

function providers(reply = REPLY, tts = new ScriptedTts()): Providers & { llm: ScriptedLlm; tts: ScriptedTts } {
  return {
    vad: new ScriptedVad(),
    asr: new ScriptedAsr(['what is the weather', 'and tomorrow', 'thanks']),
    llm: new ScriptedLlm({ reply: () => words(reply) }),
    tts,
  };
}

const utterance = (speechMs = 800, quietMs = 1200) => concat(silence(200), tone(speechMs), silence(quietMs));

/** A session whose transport asked for item events. */
async function itemSession(p: Providers, settings: SettingsPatch = {}): Promise<SessionDriver> {
  const d = new SessionDriver(p);
  d.session.handle({ type: 'start', settings, metadata: {}, itemEvents: true });
  await d.next('ready');
  return d;
}

void describe('replies on request (autoRespond off)', () => {
  void it('a spoken turn adds a user item and waits; respond answers it', async () => {
    const p = providers();
    const d = await itemSession(p, { turn: { autoRespond: false } });
    d.audio(utterance());
    const added = await d.next('item_added', (e) => e.item.role === 'user');
    assert.deepEqual(added.item, { id: 'turn_1', role: 'user', text: 'what is the weather', origin: 'audio' });
    assert.equal(added.previousItemId, null);
    const started = await d.next('speech_started');
    assert.equal(started.turnId, 'turn_1', 'speech names the item it will become');
    await d.next('transcript', (e) => e.stability === 'final');
    await d.settled();
    assert.equal(d.all('response_started').length, 0, 'no reply without respond');

    d.session.handle({ type: 'respond', ref: 'r1' });
    const reply = await d.next('item_added', (e) => e.item.role === 'assistant');
    assert.equal(reply.previousItemId, 'turn_1');
    assert.equal(reply.responseId, (await d.next('response_started')).responseId);
    d.session.handle({ type: 'respond', ref: 'r2' });
    const busy = await d.next('error', (e) => e.ref === 'r2');
    assert.equal(busy.reason, 'response_in_progress');
    assert.equal(busy.sessionContinues, true);
    assert.equal((await d.next('response_done')).status, 'completed');
    assert.deepEqual(p.llm.requests[0]?.slice(1), [{ role: 'user', content: 'what is the weather' }]);
    d.session.end();
  });

  void it('added text items do not reply; respond answers with them in the history, in order', async () => {
    const p = providers('Fine.');
    const d = await itemSession(p);
    d.session.handle({ type: 'add_item', item: { id: 'u1', role: 'user', text: 'hello there' }, ref: 'a' });
    d.session.handle({ type: 'add_item', item: { role: 'system', text: 'Answer in French.' }, after: null, ref: 'b' });
    d.session.handle({ type: 'add_item', item: { id: 'u1', role: 'user', text: 'again' }, ref: 'c' });
    d.session.handle({ type: 'add_item', item: { role: 'user', text: 'x' }, after: 'nope', ref: 'd' });
    assert.equal((await d.next('item_added', (e) => e.ref === 'a')).previousItemId, null);
    const system = await d.next('item_added', (e) => e.ref === 'b');
    assert.equal(system.previousItemId, null, 'after: null puts it first');
    assert.equal((await d.next('error', (e) => e.ref === 'c')).reason, 'item_exists');
    assert.equal((await d.next('error', (e) => e.ref === 'd')).reason, 'item_not_found');
    await d.settled();
    assert.equal(d.all('response_started').length, 0);
    d.session.handle({ type: 'respond', instructions: 'Be terse.' });
    assert.equal((await d.next('response_done')).status, 'completed');
    assert.deepEqual(p.llm.requests[0], [
      { role: 'system', content: 'Be terse.' },
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'hello there' },
    ]);
    d.session.end();
  });
});

void describe('truncation, deletion and reading items', () => {
  void it('truncating a finished reply cuts what the next request sees; bad truncations are errors', async () => {
    // Two pieces of 2 s each.
    const p = providers(REPLY, new ScriptedTts({ msPerChar: 2000 / 24 }));
    const d = await itemSession(p);
    d.session.handle({ type: 'text', text: 'count to ten' });
    const reply = await d.next('item_added', (e) => e.item.role === 'assistant');
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    d.session.handle({ type: 'truncate', itemId: reply.item.id, audioEndMs: 3000, ref: 't1' });
    const cut = await d.next('item_truncated', (e) => e.ref === 't1');
    assert.equal(cut.text, 'one two three four five. six seven');
    d.session.handle({ type: 'truncate', itemId: reply.item.id, audioEndMs: 60_000, ref: 't2' });
    assert.equal((await d.next('error', (e) => e.ref === 't2')).reason, 'audio_end_out_of_range');
    d.session.handle({ type: 'truncate', itemId: 'turn_1', audioEndMs: 0, ref: 't3' });
    assert.equal((await d.next('error', (e) => e.ref === 't3')).reason, 'not_truncatable');
    d.session.handle({ type: 'get_item', itemId: reply.item.id, ref: 'g' });
    assert.equal((await d.next('item_retrieved', (e) => e.ref === 'g')).item.text, 'one two three four five. six seven');

    d.session.handle({ type: 'text', text: 'go on' });
    await d.next('response_done', (e) => e.responseId !== done.responseId);
    assert.deepEqual(p.llm.requests[1]?.slice(1), [
      { role: 'user', content: 'count to ten' },
      { role: 'assistant', content: 'one two three four five. six seven' },
      { role: 'user', content: 'go on' },
    ]);
    d.session.end();
  });

  void it('truncating the reply that is playing stops it there', async () => {
    const p = providers(REPLY, new ScriptedTts({ msPerChar: 2000 / 24 }));
    const d = await itemSession(p);
    d.session.handle({ type: 'text', text: 'count to ten' });
    const reply = await d.next('item_added', (e) => e.item.role === 'assistant');
    await d.next('response_audio', (e) => e.offsetMs >= 3000);
    d.session.handle({ type: 'truncate', itemId: reply.item.id, audioEndMs: 1000, ref: 't' });
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    assert.equal(done.cause, 'client');
    assert.equal(done.heardText, 'one two');
    assert.equal((await d.next('item_truncated')).text, 'one two');
    d.session.end();
  });

  void it('a deleted item is gone from the next request; deleting it again is an error', async () => {
    const p = providers('Sure.');
    const d = await itemSession(p);
    d.session.handle({ type: 'add_item', item: { id: 'secret', role: 'user', text: 'my pin is 1234' } });
    d.session.handle({ type: 'delete_item', itemId: 'secret', ref: 'x1' });
    d.session.handle({ type: 'delete_item', itemId: 'secret', ref: 'x2' });
    assert.equal((await d.next('item_deleted', (e) => e.ref === 'x1')).itemId, 'secret');
    assert.equal((await d.next('error', (e) => e.ref === 'x2')).reason, 'item_not_found');
    d.session.handle({ type: 'text', text: 'hello' });
    await d.next('response_done');
    assert.deepEqual(p.llm.requests[0]?.slice(1), [{ role: 'user', content: 'hello' }]);
    d.session.end();
  });
});

void describe('cancelling and the input buffer', () => {
  void it('cancel stops the running reply for the client, and is an error when nothing runs', async () => {
    const d = await itemSession(providers(REPLY, new ScriptedTts({ chunkDelayMs: 20 })));
    d.session.handle({ type: 'cancel', ref: 'c0' });
    assert.equal((await d.next('error', (e) => e.ref === 'c0')).reason, 'no_response');
    d.session.handle({ type: 'text', text: 'talk' });
    const started = await d.next('response_started');
    d.session.handle({ type: 'cancel', responseId: 'resp_999', ref: 'c1' });
    assert.equal((await d.next('error', (e) => e.ref === 'c1')).reason, 'no_response');
    d.session.handle({ type: 'cancel', responseId: started.responseId, ref: 'c2' });
    const done = await d.next('response_done');
    assert.deepEqual([done.status, done.cause], ['interrupted', 'client']);
    d.session.end();
  });

  void it('commit needs audio since the last turn; clear drops the speech so far', async () => {
    const p = providers();
    const d = await itemSession(p, { turn: { endOfTurnSource: 'commit', autoRespond: false } });
    d.session.handle({ type: 'commit', ref: 'k0' });
    const empty = await d.next('error', (e) => e.ref === 'k0');
    assert.equal(empty.reason, 'input_empty');
    assert.equal(empty.code, 'failed_precondition');

    d.audio(concat(tone(600), silence(300)));
    d.session.handle({ type: 'clear_input', ref: 'cl' });
    await d.next('input_cleared', (e) => e.ref === 'cl');
    d.session.handle({ type: 'commit', ref: 'k1' });
    assert.equal((await d.next('error', (e) => e.ref === 'k1')).reason, 'input_empty', 'the cleared audio is not committed');

    d.audio(concat(silence(300)));
    d.session.handle({ type: 'commit', ref: 'k2' });
    assert.equal((await d.next('error', (e) => e.ref === 'k2')).reason, 'nothing_heard');

    d.audio(concat(tone(600), silence(300)));
    d.session.handle({ type: 'commit', ref: 'k3' });
    const added = await d.next('item_added');
    assert.equal(added.item.text, 'and tomorrow', 'the cleared words are gone: the recognizer heard the next utterance');
    assert.equal(d.all('item_added').length, 1);
    d.session.end();
  });

  void it('barge-in names its cause', async () => {
    const d = await itemSession(providers(REPLY, new ScriptedTts({ chunkDelayMs: 20 })));
    d.audio(utterance());
    await d.next('response_audio');
    d.audio(utterance(600));
    const done = await d.next('response_done');
    assert.deepEqual([done.status, done.cause], ['interrupted', 'barge_in']);
    d.session.end();
  });
});

void describe('session settings for item-aware clients', () => {
  void it('the input format may change until audio came in; updates are acknowledged', async () => {
    const d = await itemSession(providers(), { inputFormat: { encoding: 'pcm16', sampleRateHz: 24000 } });
    d.session.handle({ type: 'update', settings: { inputFormat: { encoding: 'mulaw', sampleRateHz: 8000 } }, ref: 'u1' });
    assert.deepEqual((await d.next('settings_updated', (e) => e.ref === 'u1')).settings.inputFormat, { encoding: 'mulaw', sampleRateHz: 8000 });
    d.session.handle({ type: 'audio', data: new Uint8Array(160) });
    d.session.handle({ type: 'update', settings: { inputFormat: { encoding: 'pcm16', sampleRateHz: 16000 } }, ref: 'u2' });
    assert.match((await d.next('error', (e) => e.ref === 'u2')).message, /cannot change once audio has been sent/);
    d.session.handle({ type: 'update', settings: { turn: { vadThreshold: 1.5 } }, ref: 'u3' });
    assert.match((await d.next('error', (e) => e.ref === 'u3')).message, /vad_threshold 1.5 is out of range/);
    d.session.end();
  });

  void it("a session's VAD threshold decides what is speech, and prefix padding moves speech_started earlier", async () => {
    // The scripted VAD gives 0.95 for a tone: a threshold above that hears nothing.
    const deaf = await itemSession(providers(), { turn: { vadThreshold: 0.97 } });
    deaf.audio(utterance());
    await deaf.settled();
    assert.equal(deaf.all('speech_started').length, 0);
    deaf.session.end();

    const padded = await itemSession(providers(), { turn: { prefixPaddingMs: 150 } });
    padded.audio(utterance());
    const started = await padded.next('speech_started');
    assert.ok(started.audioOffsetMs < 200 - 100, `onset at about 200 ms reported at ${started.audioOffsetMs} ms`);
    padded.session.end();
  });

  void it('sessions that did not ask for item events get none', async () => {
    const d = new SessionDriver(providers('Hi.'));
    await d.start();
    d.session.handle({ type: 'text', text: 'hello' });
    await d.next('response_done');
    d.session.handle({ type: 'update', settings: { voice: 'x' } });
    await d.settled();
    assert.deepEqual(
      d.events.filter((e) => e.type.startsWith('item_') || e.type === 'settings_updated'),
      [],
    );
    d.session.end();
  });
});
