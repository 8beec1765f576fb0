/**
 * Voice turns through the whole gateway on NVIDIA backends: a gRPC client (the `ask` client's
 * code) speaks to the gateway, which uses the scripted Riva server for ASR and TTS and the
 * scripted OpenAI-compatible server as NIM, all over real sockets on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ask } from '../../src/client/ask-client.js';
import { listVoices } from '../support/grpc-call.js';
import { startRivaGateway } from '../support/riva-gateway.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startScriptedRiva, type ScriptedRiva } from '../support/scripted-riva-server.js';

const LONG_REPLY = 'Here is a long answer about the weather. It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';

let riva: ScriptedRiva;
let llm: ScriptedServer;
let gateway: Awaited<ReturnType<typeof startRivaGateway>>;

before(async () => {
  riva = await startScriptedRiva();
  llm = await startScriptedOpenAiServer({ reply: 'It is sunny and warm today.', tokenDelayMs: 5 });
  gateway = await startRivaGateway({
    RIVA_URI: riva.address,
    LLM_BASE_URL: llm.baseUrl,
    RIVA_TTS_TIMEOUT_MS: '3000',
    RIVA_ASR_RECONNECT_BACKOFF_MS: '20',
  });
});
after(async () => {
  await gateway.close();
  await riva.close();
  await llm.close();
});

const question = () => concat(silence(300), tone(800), silence(300));
const speak = (pcm: Int16Array, extra: Partial<Parameters<typeof ask>[0]> = {}) =>
  ask({ server: gateway.address, pcm, sampleRateHz: 16000, settleMs: 800, timeoutMs: 30_000, ...extra });

void describe('voice turns on Riva and NIM', () => {
  void it('a spoken question is recognized by Riva, answered by the LLM and spoken by Riva', async () => {
    llm.setReply('It is sunny and warm today.');
    const tts = riva.ttsCalls.length;
    const result = await speak(question());
    assert.deepEqual(result.errors, []);
    const [turn] = result.turns;
    assert.equal(turn!.transcript, 'utterance of 800 ms');
    assert.equal(turn!.response_text, 'It is sunny and warm today.');
    assert.equal(turn!.response_status, 'completed');
    assert.ok(turn!.reply_audio_ms > 1000, `${turn!.reply_audio_ms} ms of reply`);
    assert.equal(typeof turn!.metrics.voice_to_voice_ms, 'number');
    const call = riva.ttsCalls[tts]!;
    assert.deepEqual([call.requests[0]!.text, call.requests[0]!.languageCode, call.requests[0]!.sampleRateHz, call.halfClosedAfter], ['It is sunny and warm today.', 'en-US', 16000, 1]);
    assert.equal(llm.requests.at(-1)!.messages.at(-1)!.content, 'utterance of 800 ms');
  });

  void it('all sessions share one connection to Riva', async () => {
    const asr = riva.asrCalls.length;
    const tts = riva.ttsCalls.length;
    await Promise.all([speak(question()), speak(question())]);
    const peers = new Set([...riva.asrCalls.slice(asr), ...riva.ttsCalls.slice(tts)].map((c) => c.peer));
    assert.ok(riva.asrCalls.length - asr >= 2 && riva.ttsCalls.length - tts >= 2, 'both sessions used Riva');
    assert.equal(peers.size, 1, `one client connection: ${[...peers].join(', ')}`);
  });

  void it('speculative hit: the stable interim starts the LLM and the final confirms it', async () => {
    llm.setReply('It is sunny and warm today.');
    const requests = llm.requests.length;
    const result = await speak(question());
    const [turn] = result.turns;
    assert.equal(turn!.metrics.speculative, 'hit');
    assert.equal(turn!.response_status, 'completed');
    assert.equal(llm.requests.length, requests + 1, 'one LLM request: the early one was kept');
  });

  void it('speculative miss: a final with other words restarts the reply, and nothing of the early one is heard', async () => {
    riva.setWords(() => ({ interim: 'what is the weather', final: 'what is the weather today' }));
    llm.setReply((request) => `You said ${request.messages.at(-1)!.content}.`);
    const requests = llm.requests.length;
    const tts = riva.ttsCalls.length;
    try {
      const result = await speak(question());
      const [turn] = result.turns;
      assert.equal(turn!.transcript, 'what is the weather today');
      assert.equal(turn!.metrics.speculative, 'miss');
      assert.equal(turn!.response_text, 'You said what is the weather today.');
      assert.deepEqual(
        llm.requests.slice(requests).map((r) => r.messages.at(-1)!.content),
        ['what is the weather', 'what is the weather today'],
      );
      const spoken = riva.ttsCalls.slice(tts).flatMap((c) => c.requests.map((r) => r.text));
      assert.ok(spoken.includes('You said what is the weather.'), `the early reply was synthesized (and held): ${spoken.join(' | ')}`);
      assert.equal(result.turns.length, 1);
    } finally {
      riva.setWords(({ voicedMs }) => `utterance of ${Math.round(voicedMs / 100) * 100} ms`);
    }
  });

  void it('barge-in cancels the Riva TTS call: the server sees the cancellation', async () => {
    llm.setReply((request) => (request.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    riva.configure({ ttsChunkDelayMs: 50 }); // synthesis at half real time: calls are still running during playback
    const tts = riva.ttsCalls.length;
    try {
      const result = await speak(concat(silence(200), tone(800), silence(1800), tone(1000), silence(300)));
      const [first] = result.turns;
      assert.equal(first!.response_status, 'interrupted');
      const calls = riva.ttsCalls.slice(tts);
      assert.ok(calls.some((c) => c.cancelled && !c.finished), `a TTS call was cancelled: ${JSON.stringify(calls.map((c) => [c.cancelled, c.finished]))}`);
    } finally {
      riva.configure({ ttsChunkDelayMs: 0 });
    }
  });

  void it('an ASR stream dropped mid-turn is reopened and the turn goes on', async () => {
    llm.setReply('It is sunny and warm today.');
    const asr = riva.asrCalls.length;
    riva.dropAsrAfter(700); // 400 ms into the speech
    const result = await speak(question());
    assert.deepEqual(result.errors, []);
    const [turn] = result.turns;
    assert.equal(turn!.transcript, 'utterance of 800 ms');
    assert.equal(turn!.response_status, 'completed');
    assert.ok(riva.asrCalls.slice(asr).some((c) => c.ended === 'dropped'), 'a stream was dropped');
  });

  void it('TTS stalling past its deadline fails that turn with tts_unavailable; the next turn works', async () => {
    llm.setReply('It is sunny and warm today.');
    const quick = await startRivaGateway({ RIVA_URI: riva.address, LLM_BASE_URL: llm.baseUrl, RIVA_TTS_TIMEOUT_MS: '500' });
    riva.stallTts(1);
    try {
      const result = await ask({ server: quick.address, pcm: question(), sampleRateHz: 16000, settleMs: 1200, texts: ['are you there'], timeoutMs: 30_000 });
      const [first, second] = result.turns;
      assert.equal(first!.response_status, 'failed');
      assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
      assert.match(result.errors[0]!.message, /Riva speech synthesis .* failed \(DEADLINE_EXCEEDED.*no answer within RIVA_TTS_TIMEOUT_MS/);
      assert.equal(second!.response_status, 'completed');
    } finally {
      riva.stallTts(0);
      await quick.close();
    }
  });
});

void describe('NIM failures', () => {
  void it('HTTP 429 with Retry-After: a clear llm_unavailable, and no new request until then', async () => {
    llm.setReply({ status: 429, headers: { 'content-type': 'application/json', 'retry-after': '30' }, body: '{"error":{"message":"Too Many Requests"}}' });
    const requests = llm.requests.length;
    try {
      const result = await speak(question(), { texts: ['hello again'] });
      assert.equal(result.turns.length, 2);
      assert.deepEqual(result.turns.map((t) => t.response_status), ['failed', 'failed']);
      assert.match(result.errors[0]!.message, /HTTP 429 \(rate limited\); retry after 30 s/);
      assert.match(result.errors[1]!.message, /no request is sent to it before .*; try again in (29|30) s/);
      assert.equal(llm.requests.length, requests + 1, 'the second turn sent nothing');
    } finally {
      llm.setReply('It is sunny and warm today.');
    }
  });

  void it('HTTP 500: that turn fails with llm_unavailable and the session goes on', async () => {
    let calls = 0;
    llm.setReply(() => (calls++ === 0 ? { status: 500, body: 'internal error' } : 'Back again.'));
    const result = await speak(question(), { texts: ['are you there'] });
    assert.deepEqual(result.turns.map((t) => t.response_status), ['failed', 'completed']);
    assert.match(result.errors[0]!.message, /HTTP 500 \(server error\)/);
    assert.equal(result.turns[1]!.response_text, 'Back again.');
  });

  void it('a stream that stalls mid-reply fails the turn after LLM_STREAM_IDLE_TIMEOUT_MS; the session goes on', async () => {
    const stalling = await startScriptedOpenAiServer({ reply: 'It is sunny, and it will stay warm all day long.', stallAfterTokens: 4, tokenDelayMs: 5 });
    const other = await startRivaGateway({ RIVA_URI: riva.address, LLM_BASE_URL: stalling.baseUrl, LLM_STREAM_IDLE_TIMEOUT_MS: '500' });
    try {
      const result = await ask({ server: other.address, pcm: question(), sampleRateHz: 16000, settleMs: 1500, texts: ['hello'], timeoutMs: 30_000 });
      assert.match(result.errors[0]!.message, /stalled: nothing came for 500 ms \(LLM_STREAM_IDLE_TIMEOUT_MS\)/);
      assert.equal(result.turns[0]!.response_status, 'failed');
      assert.equal(result.turns.length, 2, 'the session went on to the next turn');
      assert.ok(stalling.abortedCount() >= 1, 'the stalled request was closed');
    } finally {
      await other.close();
      await stalling.close();
    }
  });
});

void describe('ListVoices', () => {
  void it('answers with the voices of GetRivaSynthesisConfig, filtered by language', async () => {
    const all = await listVoices(gateway.address, '');
    assert.deepEqual(
      all.voices.map((v) => [v.name, v.languages]),
      [
        ['English-US.Female-1', ['en-US']],
        ['English-US.Male-1', ['en-US']],
      ],
    );
    assert.equal((await listVoices(gateway.address, 'en')).voices.length, 2);
    assert.equal((await listVoices(gateway.address, 'de-DE')).voices.length, 0);
  });

  void it('answers with espeak\'s voices when the local engine speaks', async () => {
    const local = await startRivaGateway({ RIVA_URI: riva.address, LLM_BASE_URL: llm.baseUrl, TTS_PROVIDER: 'espeak' });
    try {
      const english = await listVoices(local.address, 'en-US');
      assert.ok(english.voices.length > 0);
      assert.ok(english.voices.every((v) => v.languages.some((l) => l.toLowerCase().startsWith('en'))), JSON.stringify(english.voices.slice(0, 5)));
      assert.ok((await listVoices(local.address, '')).voices.length > english.voices.length);
    } finally {
      await local.close();
    }
  });
});
