/** The `say` event: fixed words spoken as a reply (a phone call's greeting), without the LLM. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionDriver } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad } from '../support/scripted-providers.js';

function providers() {
  return { vad: new ScriptedVad(), asr: new ScriptedAsr(['hello']), llm: new ScriptedLlm({ reply: () => ['Fine.'] }), tts: new ScriptedTts() };
}

void describe('say', () => {
  void it('speaks the words through TTS without asking the LLM, and the history holds them', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    await d.start();
    d.session.handle({ type: 'say', text: 'Hello, you are through to the weather line.' });
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    assert.equal(done.heardText, 'Hello, you are through to the weather line.');
    assert.equal(p.llm.requests.length, 0, 'the LLM was not asked');
    assert.deepEqual(p.tts.texts, ['Hello, you are through to the weather line.']);
    d.session.handle({ type: 'text', text: 'how are you' });
    await d.next('response_done', (e) => e.responseId !== done.responseId);
    assert.deepEqual(p.llm.requests[0]!.slice(1), [
      { role: 'assistant', content: 'Hello, you are through to the weather line.' },
      { role: 'user', content: 'how are you' },
    ]);
  });

  void it('empty or too long words are an invalid_argument error and the session goes on', async () => {
    const d = new SessionDriver(providers());
    await d.start();
    d.session.handle({ type: 'say', text: '  ' });
    assert.match((await d.next('error')).message, /say has no text/);
    d.session.handle({ type: 'say', text: 'x'.repeat(5000) });
    assert.match((await d.next('error', (e) => /characters long/.test(e.message))).message, /at most 4000/);
    d.session.handle({ type: 'say', text: 'Still here.' });
    assert.equal((await d.next('response_done')).heardText, 'Still here.');
  });
});
