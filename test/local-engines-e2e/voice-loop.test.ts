/**
 * The whole voice loop on the local engines, as users run it: the built `voice-gateway serve`
 * (Silero VAD, pocketsphinx, espeak-ng) over real gRPC, with the LLM pointed by LLM_BASE_URL at
 * the scripted OpenAI-compatible server. Questions are spoken by flite's slt voice (which
 * pocketsphinx recognizes well); the client is the `ask` listener.
 *
 * Needs `npm run build` first (scripts/test.sh does it): the CLI in bin/ runs dist/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ask, type AskTurn } from '../../src/client/ask-client.js';
import type * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { EspeakSynthesizer } from '../../src/providers/tts/espeak.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedRequest, type ScriptedServer } from '../support/scripted-openai-server.js';
import { concatPcm, rms, silence, speechFixture } from '../support/speech-fixtures.js';

const run = promisify(execFile);
const CLI = 'bin/voice-gateway.js';
const RATE_HZ = 16000;
/**
 * `ask` hangs up after this much quiet: longer than the gateway may wait for a late final
 * transcript after the end of turn (ASR_FINAL_WAIT_MS, 1.5 s), so a slow machine loses no turn.
 */
const SETTLE_MS = 2500;

const QUESTION = 'what is the weather like in paris today';
const SHORT_REPLY = 'It is sunny in Paris today, with a light breeze.';
// Twice the text of SHORT_REPLY, give or take a few characters.
const DOUBLE_REPLY = 'It is sunny in Paris today, with a light breeze. Tomorrow brings clouds and some rain at night.';
const LONG_REPLY =
  'Here is a long answer about the weather in Paris. It will be sunny in the morning with a light breeze from the west. ' +
  'Clouds will come in the afternoon and the wind will pick up. Rain is likely by the evening, so take an umbrella with you. ' +
  'Tomorrow will be cooler, with fog early in the day.';
const INTERRUPTION = 'stop and tell me a joke instead';
/**
 * How the script and the test know the interruption: pocketsphinx sometimes hears "job" for
 * "joke" (more often on a loaded machine, where its chunks arrive in other sizes), never both
 * words wrong. This test is about barge-in, not about the recognizer's accuracy.
 */
const INTERRUPTION_WORDS = /\b(joke|instead)\b/;
const JOKE = 'Why did the cloud stay home? It was feeling under the weather.';
// One sentence, no comma: one piece for TTS, so the whole reply is one espeak utterance. espeak-ng
// reads Devanagari in Hindi with any voice, but digits in the voice's language: "27" is
// "sattaees" for hi and "twenty seven" for en-us, so the two voices give clearly different lengths.
const HINDI_REPLY = 'आज पेरिस में तापमान 27 डिग्री है और कल 73 या 77 डिग्री होगा।';

const lastUser = (req: ScriptedRequest) => req.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

/** The LLM's script: what it answers depends on what the user said. */
function script(req: ScriptedRequest): string {
  const said = lastUser(req);
  if (/[\u0900-\u097f]/.test(said)) return HINDI_REPLY;
  if (said.includes('tomorrow')) return DOUBLE_REPLY;
  if (INTERRUPTION_WORDS.test(said)) return JOKE;
  if (said.includes('long')) return LONG_REPLY;
  return SHORT_REPLY;
}

let llm: ScriptedServer;
let gateway: GatewayProcess;
const tts = new EspeakSynthesizer();

/** espeak-ng's own rendering of `text`, in this process, at the rate the gateway sends. */
async function espeak(text: string, voice: string): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const chunk of tts.stream(text, { voice, language: '', sampleRateHz: RATE_HZ }, new AbortController().signal)) parts.push(chunk.pcm);
  return concatPcm(...parts);
}

const ms = (pcm: Int16Array) => (pcm.length * 1000) / RATE_HZ;
const metric = (turn: AskTurn, name: string) => (turn.metrics[name] as number | undefined) ?? 0; // the protocol leaves 0 out

before(async () => {
  assert.ok(existsSync('dist/cli/main.js'), 'dist/ is missing: run `npm run build` first (scripts/test.sh does)');
  llm = await startScriptedOpenAiServer({ reply: script, tokenDelayMs: 5 });
  gateway = await startGatewayProcess([CLI, 'serve'], { LLM_PROVIDER: 'openai', LLM_BASE_URL: llm.baseUrl, LOG_LEVEL: 'warn' });
});

after(async () => {
  await gateway?.stop();
  await llm?.close();
});

void describe('the voice loop on the local engines', () => {
  void it('a spoken question is transcribed and answered in espeak speech whose length follows the text; metrics in order', async () => {
    const question = await speechFixture(QUESTION);
    const result = await ask({ server: gateway.grpcAddress, pcm: question, sampleRateHz: RATE_HZ, texts: ['and tomorrow'], settleMs: SETTLE_MS });
    assert.deepEqual(result.errors, []);
    assert.equal(result.turns.length, 2, JSON.stringify(result.turns));
    const [spoken, typed] = result.turns as [AskTurn, AskTurn];

    for (const word of ['weather', 'paris', 'today']) assert.ok(spoken.transcript.includes(word), `"${word}" in "${spoken.transcript}"`);
    assert.equal(llm.requests.at(-2)?.messages.at(-1)?.content, spoken.transcript, 'the LLM got the transcript');
    assert.equal(spoken.response_text, SHORT_REPLY);
    assert.equal(typed.response_text, DOUBLE_REPLY);
    assert.equal(spoken.response_status, 'completed');
    assert.equal(typed.response_status, 'completed');

    // Spoken: real sound, as long as espeak-ng makes it (the gateway speaks it in pieces, each
    // with espeak's own pauses, so a margin), and twice the text gives about twice the audio.
    assert.ok(rms(result.heardPcm) > 300, `the reply is not silent (rms ${rms(result.heardPcm)})`);
    assert.ok(Math.abs(ms(result.heardPcm) - spoken.reply_audio_ms - typed.reply_audio_ms) < 500, 'the listener heard both replies whole');
    const own = ms(await espeak(SHORT_REPLY, 'en-us'));
    assert.ok(spoken.reply_audio_ms > 0.8 * own && spoken.reply_audio_ms < 1.5 * own, `reply ${spoken.reply_audio_ms} ms, espeak-ng alone ${own} ms`);
    const audioRatio = typed.reply_audio_ms / spoken.reply_audio_ms;
    const textRatio = DOUBLE_REPLY.length / SHORT_REPLY.length;
    assert.ok(audioRatio > 0.75 * textRatio && audioRatio < 1.3 * textRatio, `audio x${audioRatio.toFixed(2)} for text x${textRatio.toFixed(2)}`);

    // Metrics: present, and the stages of the turn fit inside voice-to-voice.
    for (const name of ['eou_delay_ms', 'asr_final_ms', 'voice_to_voice_ms']) {
      assert.equal(typeof spoken.metrics[name], 'number', `${name} in ${JSON.stringify(spoken.metrics)}`);
    }
    const v2v = metric(spoken, 'voice_to_voice_ms');
    assert.ok(metric(spoken, 'eou_delay_ms') <= v2v, JSON.stringify(spoken.metrics));
    assert.ok(metric(spoken, 'llm_ttft_ms') <= metric(spoken, 'llm_first_piece_ms'), JSON.stringify(spoken.metrics));
    // End of turn, then the LLM's first piece, then TTS's first audio: one after the other (each
    // rounded to the ms, hence the slack of 3).
    assert.ok(metric(spoken, 'eou_delay_ms') + metric(spoken, 'llm_first_piece_ms') + metric(spoken, 'tts_ttfb_ms') <= v2v + 3, JSON.stringify(spoken.metrics));
    assert.equal(typeof typed.metrics.voice_to_voice_ms, 'number', 'a typed turn is measured from the text');
  });

  void it('barge-in: speaking during a long reply stops its audio, and the LLM next hears only what was played', async () => {
    const question = await speechFixture('tell me a long story about the weather');
    const interruption = await speechFixture(INTERRUPTION);
    const before = llm.requests.length;
    let firstReplyId = '';
    let fullReplyMs = 0;
    let audioAfterDone = 0;
    let firstDone = false;
    const onEvent = (response: pb.ConverseResponse) => {
      const e = response.event;
      if (e.case === 'responseStarted' && !firstReplyId) firstReplyId = e.value.responseId;
      if (e.case === 'responseAudio' && e.value.responseId === firstReplyId && firstDone) audioAfterDone++;
      if (e.case === 'responseDone' && e.value.responseId === firstReplyId) {
        firstDone = true;
        fullReplyMs = e.value.audioSentMs;
      }
    };
    // The interruption starts about 2 s into the reply, which lasts over 10 s.
    const pcm = concatPcm(question, silence(3000), interruption, silence(300));
    const result = await ask({ server: gateway.grpcAddress, pcm, sampleRateHz: RATE_HZ, settleMs: SETTLE_MS, onEvent });
    assert.deepEqual(result.errors, []);
    assert.equal(result.turns.length, 2, JSON.stringify(result.turns));
    const [first, second] = result.turns as [AskTurn, AskTurn];

    assert.ok(first.transcript.includes('story'), first.transcript);
    assert.equal(first.response_status, 'interrupted');
    assert.ok(fullReplyMs > 8000, `the gateway had made ${fullReplyMs} ms of reply audio`);
    assert.ok(first.reply_audio_ms > 0 && first.reply_audio_ms < 0.5 * fullReplyMs, `played ${first.reply_audio_ms} of ${fullReplyMs} ms`);
    assert.equal(audioAfterDone, 0, 'no audio of the interrupted reply after it was done');
    assert.match(second.transcript, INTERRUPTION_WORDS);
    assert.equal(second.response_text, JOKE);
    assert.equal(second.response_status, 'completed');

    const next = llm.requests[before + 1];
    assert.ok(next, 'a second LLM request');
    const assistant = next.messages.find((m) => m.role === 'assistant');
    assert.ok(assistant && assistant.content.length > 0, `an assistant message in ${JSON.stringify(next.messages)}`);
    assert.ok(assistant.content.length < LONG_REPLY.length && LONG_REPLY.startsWith(assistant.content), `a strict prefix of the reply: "${assistant.content}"`);
    assert.equal(lastUser(next), second.transcript);
  });

  void it('a Hindi session speaks its reply with the Hindi voice (typed turn: the recognizer is English only)', async () => {
    let ready: pb.SessionReady | undefined;
    const onEvent = (response: pb.ConverseResponse) => {
      if (response.event.case === 'ready') ready = response.event.value;
    };
    const result = await ask({ server: gateway.grpcAddress, pcm: silence(300), sampleRateHz: RATE_HZ, texts: ['नमस्ते, आज मौसम कैसा है?'], settings: { language: 'hi' }, settleMs: 1000, onEvent });
    assert.equal(ready?.settings?.language, 'hi');
    // Said once, not once per audio chunk.
    assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
    assert.equal(result.errors[0]!.code, 'ASR_UNAVAILABLE');
    assert.match(result.errors[0]!.message, /"hi"/);
    assert.equal(result.turns.length, 1, JSON.stringify(result.turns));
    const [turn] = result.turns as [AskTurn];
    assert.equal(turn.response_text, HINDI_REPLY);
    assert.equal(turn.response_status, 'completed');
    assert.ok(rms(result.heardPcm) > 300, `not silent (rms ${rms(result.heardPcm)})`);

    // The numbers are read in Hindi: the reply is as long as espeak-ng's hi rendering, not en-us's.
    const heardMs = ms(result.heardPcm);
    const hindiMs = ms(await espeak(HINDI_REPLY, 'hi'));
    const englishMs = ms(await espeak(HINDI_REPLY, 'en-us'));
    assert.ok(englishMs - hindiMs > 500, `the voices differ: hi ${hindiMs} ms, en-us ${englishMs} ms`);
    assert.ok(Math.abs(heardMs - hindiMs) < 250, `${heardMs} ms heard; espeak-ng hi ${hindiMs} ms, en-us ${englishMs} ms`);
  });
});

void describe('voice-gateway serve on the local engines', () => {
  void it('ASR_LANGUAGE=de-DE stops the start with one line naming engines that support it', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'llm-cache-'));
    const env = {
      ...process.env,
      ASR_LANGUAGE: 'de-DE',
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      HOST: '127.0.0.1',
      // The check must come before the local LLM is looked for; were it not, nothing is fetched.
      LLM_PROVIDER: 'auto',
      LLM_BASE_URL: '',
      LLM_MODEL_PATH: '',
      LLM_CACHE_DIR: cache,
      LLM_MODEL_URL: 'http://127.0.0.1:9/model.gguf',
    };
    const outcome = await run(process.execPath, [CLI, 'serve'], { env, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '', stdout: '' }),
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    assert.notEqual(outcome.code, 0);
    assert.doesNotMatch(outcome.stdout, /listening/);
    const lines = outcome.stderr.trim().split('\n');
    assert.equal(lines.length, 1, outcome.stderr);
    assert.match(lines[0]!, /de-DE/);
    assert.match(lines[0]!, /pocketsphinx/);
    assert.match(lines[0]!, /ASR_PROVIDER=riva/, 'names an engine that supports it, as a setting');
  });
});
