/**
 * TURN_END_SOURCE smart_turn over real gRPC: a gateway in this process with the scripted providers
 * and a Smart Turn model the test writes (test/support/smart-turn-models.ts: a turn that ends on a
 * high tone is "complete", one that ends on a low tone is not), run by the real SmartTurnModel
 * (onnxruntime in its worker thread). Decisions are in audio time (the silence sent), and the
 * test waits for the model's answers, never for the clock. The LLM is a scripted OpenAI-compatible
 * server on a socket, so speculative start (the early reply at the model's question) shows as the
 * requests it receives and the ones the gateway aborts.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import { loadConfig } from '../../src/config/load.js';
import { remoteModel } from '../../src/providers/llm/create.js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { SmartTurnModel } from '../../src/providers/turn/smart-turn.js';
import type { TurnEndModel, TurnEndPrediction } from '../../src/providers/types.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { openConverse, type ConverseCall } from '../support/grpc-call.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { concat, ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, silence, tone } from '../support/scripted-providers.js';
import { COMPLETE_HZ, INCOMPLETE_HZ, pitchTurnModel } from '../support/smart-turn-models.js';
import { waitUntil } from '../support/wait-until.js';

/** The real model, with the answers it gave (for the test to wait on). */
class WatchedModel implements TurnEndModel {
  readonly answers: TurnEndPrediction[] = [];
  /** Set by a test: each answer waits for it (the decision comes only after what it awaits). */
  beforeAnswer: (() => Promise<void>) | null = null;
  constructor(private readonly model: SmartTurnModel) {}
  get sampleRateHz(): number {
    return this.model.sampleRateHz;
  }
  get maxAudioMs(): number {
    return this.model.maxAudioMs;
  }
  async predict(pcm: Int16Array, signal: AbortSignal): Promise<TurnEndPrediction> {
    const answer = await this.model.predict(pcm, signal);
    await this.beforeAnswer?.();
    this.answers.push(answer);
    return answer;
  }
}

function pitchTone(ms: number, hz: number): Int16Array {
  const pcm = new Int16Array((ms * 16000) / 1000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 16000));
  return pcm;
}

function sendAudio(call: ConverseCall, pcm: Int16Array): void {
  for (let at = 0; at < pcm.length; at += 1600) call.send({ case: 'audio', value: { data: bytesFromPcm16(pcm.subarray(at, at + 1600)) } });
}

function start(call: ConverseCall, turn: Partial<{ endOfTurnSource: pb.EndOfTurnSource; endOfTurnSilenceMs: number; endOfTurnMaxSilenceMs: number }>): void {
  call.send({ case: 'start', value: { settings: { inputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: 16000 }, turn } } });
}

const has = (call: ConverseCall, kind: NonNullable<pb.ConverseResponse['event']['case']>) => call.events.some((e) => e.event.case === kind);

/** The user's words: the first 900 ms of speech say "will it rain"; said on, the turn says more. */
const wordsOf = (voicedMs: number) => (voicedMs < 1200 ? 'will it rain' : 'will it rain tomorrow in paris');
/** Set by a test: this many next replies to the first words never end (so that dropping one shows as an abort). */
let earlyRepliesToStall = 0;

describe('end of turn by the Smart Turn model (TURN_END_SOURCE=smart_turn)', () => {
  let gateway: Gateway;
  let model: WatchedModel;
  let llm: ScriptedServer;
  let address: string;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smart-turn-eot-'));
    model = new WatchedModel(await SmartTurnModel.load({ modelPath: pitchTurnModel(join(dir, 'pitch.onnx')) }));
    llm = await startScriptedOpenAiServer({
      reply: (req) => {
        if (req.messages.at(-1)?.content !== 'will it rain') return 'Sunny in Paris.';
        return earlyRepliesToStall-- > 0 ? { tokens: ['Maybe'], stall: true } : 'Maybe later.';
      },
    });
    const config = loadConfig({ HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', LLM_BASE_URL: llm.baseUrl, SPECULATIVE_START: 'true' });
    gateway = await startGateway({
      config,
      // The recognizer's final comes only when the turn ends (its endpoint is far off): the words at the model's question are the partial.
      providers: { vad: new ScriptedVad(), asr: new ScriptedAsr(wordsOf, 60_000), llm: remoteModel(config), tts: new ScriptedTts(), turn: model },
    });
    address = `127.0.0.1:${gateway.grpcPort}`;
  });
  after(async () => {
    await gateway.close();
    await llm.close();
  });

  it('a turn the model calls complete ends after the short silence, long before the max silence', async () => {
    const call = openConverse(address);
    start(call, { endOfTurnSource: pb.EndOfTurnSource.SMART_TURN, endOfTurnSilenceMs: 200, endOfTurnMaxSilenceMs: 8000 });
    await waitUntil(() => has(call, 'ready'), 'ready');
    const ready = call.events.find((e) => e.event.case === 'ready')!.event.value as pb.SessionReady;
    assert.equal(ready.settings?.turn?.endOfTurnSource, pb.EndOfTurnSource.SMART_TURN);
    assert.equal(ready.settings?.turn?.endOfTurnMaxSilenceMs, 8000);
    sendAudio(call, concat(pitchTone(900, COMPLETE_HZ), silence(600)));
    await waitUntil(() => has(call, 'responseStarted'), 'response_started', 30_000);
    assert.ok(model.answers.some((a) => a.probability >= 0.5), 'the model said complete');
    call.close();
  });

  it('a turn the model calls incomplete waits (asked again as the silence grows), then the max silence ends it', async () => {
    const call = openConverse(address);
    start(call, { endOfTurnSource: pb.EndOfTurnSource.SMART_TURN, endOfTurnSilenceMs: 200, endOfTurnMaxSilenceMs: 3000 });
    await waitUntil(() => has(call, 'ready'), 'ready');
    const before = model.answers.length;
    // Questions come with the audio (VAD frames): once VAD hears silence (VAD_MIN_SILENCE_MS), then at twice the silence
    // of the last question. Each batch of silence here is answered before the next is sent.
    sendAudio(call, concat(pitchTone(900, INCOMPLETE_HZ), silence(600)));
    await waitUntil(() => model.answers.length - before >= 1, 'the first answer', 30_000);
    sendAudio(call, silence(500));
    await waitUntil(() => model.answers.length - before >= 2, 'the second answer', 30_000);
    assert.ok(model.answers.slice(before).every((a) => a.probability < 0.5));
    // A barrier: a refused message is answered after anything the session said before it.
    call.send({ case: 'playback', value: { responseId: 'none', playedMs: 0 } });
    call.send({ case: 'text', value: { text: '' } });
    await waitUntil(() => has(call, 'error'), 'the error of the empty text', 30_000);
    assert.ok(!has(call, 'responseStarted'), 'no reply: the turn is not over');
    sendAudio(call, silence(2400)); // past end_of_turn_max_silence_ms
    await waitUntil(() => has(call, 'responseStarted'), 'response_started after the max silence', 30_000);
    call.close();
  });

  it('speculative start, hit: the early reply starts at the model\'s question and "complete" confirms it (one LLM request)', async () => {
    const requestsBefore = llm.requests.length;
    const abortedBefore = llm.abortedCount();
    // The decision waits until the LLM server has the early request: it began before the decision.
    model.beforeAnswer = () => waitUntil(() => llm.requests.length > requestsBefore, 'the early LLM request, before the model decides', 30_000);
    try {
      const call = openConverse(address);
      start(call, { endOfTurnSource: pb.EndOfTurnSource.SMART_TURN, endOfTurnSilenceMs: 200, endOfTurnMaxSilenceMs: 8000 });
      await waitUntil(() => has(call, 'ready'), 'ready');
      sendAudio(call, concat(pitchTone(900, COMPLETE_HZ), silence(600)));
      await waitUntil(() => has(call, 'turnMetrics'), 'the reply and its turn_metrics', 30_000);
      assert.ok(model.answers.at(-1)!.probability >= 0.5, 'the model said complete');
      const requests = llm.requests.slice(requestsBefore);
      assert.deepEqual(requests.map((r) => r.messages.at(-1)?.content), ['will it rain'], 'one LLM request, the early one: no second request after the decision');
      assert.equal(llm.abortedCount(), abortedBefore, 'nothing aborted');
      const done = call.events.find((e) => e.event.case === 'responseDone')!.event.value as pb.ResponseDone;
      assert.equal(done.heardText, 'Maybe later.', 'the reply the user hears is the early one');
      const metrics = call.events.find((e) => e.event.case === 'turnMetrics')!.event.value as pb.TurnMetrics;
      assert.equal(metrics.speculative, pb.SpeculativeOutcome.HIT);
      call.close();
    } finally {
      model.beforeAnswer = null;
    }
  });

  /** A smart_turn call that says "will it rain" and pauses: the model answers (incomplete here) and the early request is sent. */
  async function askIncompleteQuestion(endOfTurnMaxSilenceMs: number): Promise<ConverseCall> {
    const requestsBefore = llm.requests.length;
    const answersBefore = model.answers.length;
    const call = openConverse(address);
    start(call, { endOfTurnSource: pb.EndOfTurnSource.SMART_TURN, endOfTurnSilenceMs: 200, endOfTurnMaxSilenceMs });
    await waitUntil(() => has(call, 'ready'), 'ready');
    sendAudio(call, concat(pitchTone(900, INCOMPLETE_HZ), silence(600)));
    await waitUntil(() => model.answers.length > answersBefore && llm.requests.length > requestsBefore, 'the model\'s answer and the early request', 30_000);
    return call;
  }

  it('speculative start, miss: "incomplete", then the user speaks on: the early request is aborted, no audio of it is sent, the reply answers all the words', async () => {
    const requestsBefore = llm.requests.length;
    const abortedBefore = llm.abortedCount();
    earlyRepliesToStall = 1;
    try {
      const call = await askIncompleteQuestion(8000);
      assert.ok(model.answers.at(-1)!.probability < 0.5, 'the model said incomplete');
      assert.equal(llm.requests.at(-1)!.messages.at(-1)?.content, 'will it rain', 'the early request has the words so far');
      // Long enough that the model's window (its last seconds) hears it more than the first tone.
      sendAudio(call, concat(pitchTone(2000, COMPLETE_HZ), silence(600)));
      await waitUntil(() => has(call, 'turnMetrics'), 'the reply and its turn_metrics', 30_000);
      await waitUntil(() => llm.abortedCount() > abortedBefore, 'the early request aborted', 30_000);
      const requests = llm.requests.slice(requestsBefore).map((r) => r.messages.at(-1)?.content);
      assert.deepEqual(requests, ['will it rain', 'will it rain tomorrow in paris'], 'the dropped early request, then the one with all the words');
      const started = call.events.filter((e) => e.event.case === 'responseStarted').map((e) => (e.event.value as pb.ResponseStarted).responseId);
      assert.equal(started.length, 1, 'one reply reached the client');
      const sentIds = call.events.flatMap((e) => (e.event.case === 'responseAudio' || e.event.case === 'responseText' ? [e.event.value.responseId] : []));
      assert.ok(sentIds.length > 0 && sentIds.every((id) => id === started[0]), 'no audio or text of the dropped reply');
      const text = call.events.flatMap((e) => (e.event.case === 'responseText' ? [e.event.value.delta] : [])).join('');
      assert.equal(text, 'Sunny in Paris.');
      call.close();
    } finally {
      earlyRepliesToStall = 0;
    }
  });

  it('speculative start: speaking on after the question drops the early reply even before new words (a cough); the next question starts another', async () => {
    const requestsBefore = llm.requests.length;
    const abortedBefore = llm.abortedCount();
    earlyRepliesToStall = 1;
    try {
      const call = await askIncompleteQuestion(1000);
      // 200 ms more of speech: the recognizer's words stay "will it rain"; then the max silence ends the turn.
      sendAudio(call, concat(pitchTone(200, INCOMPLETE_HZ), silence(1400)));
      await waitUntil(() => has(call, 'turnMetrics'), 'the reply and its turn_metrics', 30_000);
      await waitUntil(() => llm.abortedCount() > abortedBefore, 'the first early request aborted', 30_000);
      assert.deepEqual(llm.requests.slice(requestsBefore).map((r) => r.messages.at(-1)?.content), ['will it rain', 'will it rain']);
      assert.equal(call.events.filter((e) => e.event.case === 'responseStarted').length, 1);
      assert.equal(call.events.flatMap((e) => (e.event.case === 'responseText' ? [e.event.value.delta] : [])).join(''), 'Maybe later.', 'the second early reply, not the stalled first');
      call.close();
    } finally {
      earlyRepliesToStall = 0;
    }
  });

  it('a bad max silence is refused with its bounds; the session goes on', async () => {
    const call = openConverse(address);
    start(call, { endOfTurnSource: pb.EndOfTurnSource.SMART_TURN, endOfTurnMaxSilenceMs: 99_999 });
    await waitUntil(() => has(call, 'error'), 'error', 30_000);
    const error = call.events.find((e) => e.event.case === 'error')!.event.value as pb.Error;
    assert.match(error.message, /turn\.end_of_turn_max_silence_ms 99999 is out of range: use 100 to 10000/);
    call.close();
  });
});

describe('smart_turn on a server without the model', () => {
  it('says so once, naming TURN_MODEL_PATH, and ends turns on silence instead', async () => {
    const config = loadConfig({ HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent' });
    const gateway = await startGateway({
      config,
      providers: { vad: new ScriptedVad(), asr: new ScriptedAsr(() => 'hello there'), llm: new ScriptedLlm({ reply: () => ['Hi.'] }), tts: new ScriptedTts() },
    });
    try {
      const call = openConverse(`127.0.0.1:${gateway.grpcPort}`);
      start(call, { endOfTurnSource: pb.EndOfTurnSource.SMART_TURN, endOfTurnSilenceMs: 300 });
      await waitUntil(() => has(call, 'error'), 'error', 30_000);
      const error = call.events.find((e) => e.event.case === 'error')!.event.value as pb.Error;
      assert.match(error.message, /smart_turn needs the Smart Turn model.*TURN_MODEL_PATH/);
      sendAudio(call, concat(tone(900), silence(800)));
      await waitUntil(() => has(call, 'responseStarted'), 'response_started', 30_000);
      assert.equal(call.events.filter((e) => e.event.case === 'error').length, 1);
      call.close();
    } finally {
      await gateway.close();
    }
  });
});
