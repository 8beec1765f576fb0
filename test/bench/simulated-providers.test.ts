/**
 * The simulated providers follow their profile. Delays are checked as lower bounds only (a busy
 * machine may make them longer, never shorter); everything else exactly.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rmsDbfs } from '../../src/audio/pcm.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/load.js';
import { createProviders } from '../../src/providers/create.js';
import { SimulatedRecognizer } from '../../src/providers/simulated/asr.js';
import { END_CALL_TOOL_NAME } from '../../src/core/end-call-tool.js';
import { SimulatedChatModel, simulatedToolCall } from '../../src/providers/simulated/llm.js';
import { BUILT_IN_PROFILES, loadSimulatedProfile, profileFromJson, type SimulatedProfile } from '../../src/providers/simulated/profile.js';
import { SimulatedSynthesizer } from '../../src/providers/simulated/tts.js';
import type { AsrResult, ChatMessage } from '../../src/providers/types.js';
import { SimulatedVad } from '../../src/providers/simulated/vad.js';
import { silence, tone } from '../support/scripted-providers.js';
import { texts } from '../support/llm-output.js';

const blueprint = BUILT_IN_PROFILES['nvidia-blueprint']!;

function profile(patch: { asr?: Partial<SimulatedProfile['asr']>; llm?: Partial<SimulatedProfile['llm']>; tts?: Partial<SimulatedProfile['tts']> }): SimulatedProfile {
  return profileFromJson({ extends: 'nvidia-blueprint', ...patch }, 'test profile');
}

/** Feeds `pcm` in 20 ms chunks as fast as possible (silence is counted in audio time). */
function writeChunks(write: (pcm: Int16Array) => void, pcm: Int16Array): void {
  for (let at = 0; at < pcm.length; at += 320) write(pcm.subarray(at, at + 320));
}

async function collect(stream: AsyncIterable<AsrResult>, onResult?: (r: AsrResult) => void): Promise<Array<AsrResult & { at: number }>> {
  const out: Array<AsrResult & { at: number }> = [];
  for await (const result of stream) {
    out.push({ ...result, at: performance.now() });
    onResult?.(result);
  }
  return out;
}

void describe('simulated-provider profiles', () => {
  void it('nvidia-blueprint holds the figures NVIDIA published (riva-nim-api.md §5.3)', () => {
    assert.equal(blueprint.asr.finalDelayMs, 40);
    assert.equal(blueprint.asr.endOfUtteranceMs, 500);
    assert.equal(blueprint.asr.stableInterimMs, 240);
    assert.equal(blueprint.llm.firstTokenMs, 126);
    assert.equal(blueprint.tts.firstByteMs, 78);
  });

  void it('a JSON file overrides fields of the built-in it extends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-profile-'));
    const file = join(dir, 'slow-llm.json');
    await writeFile(file, JSON.stringify({ extends: 'zero-latency', name: 'slow llm', llm: { firstTokenMs: 900 } }));
    const loaded = loadSimulatedProfile(file);
    assert.equal(loaded.name, 'slow llm');
    assert.equal(loaded.llm.firstTokenMs, 900);
    assert.equal(loaded.llm.tokensPerSecond, BUILT_IN_PROFILES['zero-latency']!.llm.tokensPerSecond);
    assert.equal(loaded.tts.firstByteMs, 0);
  });

  void it('a bad name, file or field is a ConfigError that names the setting and the problem', async () => {
    assert.throws(() => loadSimulatedProfile('gpu-cluster'), (e: unknown) => e instanceof ConfigError && /SIM_PROFILE="gpu-cluster".*nvidia-blueprint/.test(e.message));
    assert.throws(() => loadSimulatedProfile('/nonexistent/profile.json'), (e: unknown) => e instanceof ConfigError && /cannot read/.test(e.message));
    const dir = await mkdtemp(join(tmpdir(), 'sim-profile-'));
    const typo = join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ llm: { firstTokenMS: 10 } }));
    assert.throws(() => loadSimulatedProfile(typo), (e: unknown) => e instanceof ConfigError && /llm.*firstTokenMS/.test(e.message));
    const negative = join(dir, 'negative.json');
    await writeFile(negative, JSON.stringify({ tts: { firstByteMs: -5 } }));
    assert.throws(() => loadSimulatedProfile(negative), (e: unknown) => e instanceof ConfigError && /tts\.firstByteMs/.test(e.message));
  });

  void it('*_PROVIDER=simulated builds the simulated providers with SIM_PROFILE', async () => {
    const config = loadConfig({ VAD_PROVIDER: 'simulated', ASR_PROVIDER: 'simulated', LLM_PROVIDER: 'simulated', TTS_PROVIDER: 'simulated', SIM_PROFILE: 'zero-latency' });
    const providers = await createProviders(config);
    assert.ok(providers.vad instanceof SimulatedVad);
    assert.ok(providers.asr instanceof SimulatedRecognizer);
    assert.ok(providers.llm instanceof SimulatedChatModel);
    assert.ok(providers.tts instanceof SimulatedSynthesizer);
  });
});

void describe('simulated VAD', () => {
  void it('hears loud frames as speech and quiet ones as silence', async () => {
    const vad = new SimulatedVad(blueprint.vad).createStream();
    assert.ok((await vad.speechProbability(tone(20, 16000, 3000))) > 0.9);
    assert.ok((await vad.speechProbability(silence(20))) < 0.1);
    assert.ok((await vad.speechProbability(tone(20, 16000, 50))) < 0.1, 'a -56 dBFS hum is not speech');
  });
});

void describe('simulated ASR', () => {
  void it('partials while speaking, a stable interim after the silence, then the final no sooner than finalDelayMs after the end of utterance', async () => {
    const asr = new SimulatedRecognizer(profile({ asr: { finalDelayMs: 150, stableInterimMs: 240, endOfUtteranceMs: 500 } }).asr);
    const stream = asr.stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const results = collect(stream, (r) => {
      if (r.kind === 'final') stream.end();
    });
    writeChunks((pcm) => stream.write(pcm), tone(900));
    writeChunks((pcm) => stream.write(pcm), silence(200));
    await new Promise((resolve) => setImmediate(resolve));
    const utteranceEndedAt = performance.now(); // just before: the end of utterance is in this audio
    writeChunks((pcm) => stream.write(pcm), silence(300));
    const got = await results;
    const kinds = got.map((r) => r.kind);
    assert.ok(kinds.filter((k) => k === 'partial').length >= 4, `partials every 200 ms of speech: ${kinds.join()}`);
    assert.deepEqual(kinds.slice(-2), ['stable', 'final']);
    const final = got.at(-1)!;
    assert.equal(final.text, 'please tell me', 'one word per 300 ms of speech');
    assert.equal(got.at(-2)!.text, final.text);
    assert.ok(final.at - utteranceEndedAt >= 150, `final came ${final.at - utteranceEndedAt} ms after the end of utterance`);
  });

  void it('less silence than the end of utterance gives no final; ending the stream flushes it after the delay', async () => {
    const asr = new SimulatedRecognizer(profile({ asr: { finalDelayMs: 120 } }).asr);
    const stream = asr.stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const results = collect(stream);
    writeChunks((pcm) => stream.write(pcm), tone(600));
    writeChunks((pcm) => stream.write(pcm), silence(200)); // < stableInterimMs and < endOfUtteranceMs
    const endedAt = performance.now();
    stream.end();
    const got = await results;
    assert.deepEqual([...new Set(got.map((r) => r.kind))], ['partial', 'final']);
    assert.ok(got.at(-1)!.at - endedAt >= 120);
  });

  void it('abort ends the stream without a final', async () => {
    const controller = new AbortController();
    const stream = new SimulatedRecognizer(profile({ asr: { finalDelayMs: 5000 } }).asr).stream({ language: 'en-US', sampleRateHz: 16000 }, controller.signal);
    const results = collect(stream);
    writeChunks((pcm) => stream.write(pcm), tone(400));
    stream.end();
    controller.abort();
    const got = await results;
    assert.ok(got.every((r) => r.kind === 'partial'));
  });
});

void describe('simulated LLM', () => {
  void it('first token no sooner than firstTokenMs, the rest at tokensPerSecond; a fixed reply of replyWords words', async () => {
    const llm = new SimulatedChatModel(profile({ llm: { firstTokenMs: 120, tokensPerSecond: 100, replyWords: 8 } }).llm);
    const startedAt = performance.now();
    const arrivals: number[] = [];
    let text = '';
    for await (const token of texts(llm.stream([{ role: 'user', content: 'hi' }], {}, new AbortController().signal))) {
      arrivals.push(performance.now() - startedAt);
      text += token;
    }
    assert.equal(text.split(' ').length, 8);
    assert.match(text, /^Sure, happy to help\. /);
    assert.match(text, /\.$/);
    assert.ok(arrivals[0]! >= 120, `first token at ${arrivals[0]} ms`);
    arrivals.forEach((ms, i) => assert.ok(ms >= 120 + i * 10, `token ${i} at ${ms} ms, due at ${120 + i * 10}`));
  });

  void it('echo repeats the last user message; abort stops the stream', async () => {
    const llm = new SimulatedChatModel(profile({ llm: { reply: 'echo', firstTokenMs: 0, tokensPerSecond: 20 } }).llm);
    let text = '';
    for await (const token of texts(llm.stream([{ role: 'user', content: 'first' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'turn the lights off' }], {}, new AbortController().signal))) text += token;
    assert.equal(text, 'You said: turn the lights off.');
    const controller = new AbortController();
    const tokens: string[] = [];
    for await (const token of texts(llm.stream([{ role: 'user', content: 'a b c d e f g h' }], {}, controller.signal))) {
      tokens.push(token);
      controller.abort();
    }
    assert.equal(tokens.length, 1);
  });

  void it('refuses, like an OpenAI-compatible server, a history with a tool call and no result (or a result and no call)', async () => {
    const llm = new SimulatedChatModel(profile({ llm: { reply: 'echo', firstTokenMs: 0 } }).llm);
    const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'look_up', arguments: '{}' } });
    const drain = async (messages: ChatMessage[]) => {
      for await (const _ of llm.stream(messages, {}, new AbortController().signal));
    };
    const asked: ChatMessage = { role: 'user', content: 'where is my order' };
    await drain([asked, { role: 'assistant', content: '', tool_calls: [call('a'), call('b')] }, { role: 'tool', tool_call_id: 'b', content: '1' }, { role: 'tool', tool_call_id: 'a', content: '2' }, asked]);
    await assert.rejects(drain([asked, { role: 'assistant', content: '', tool_calls: [call('a'), call('b')] }, { role: 'tool', tool_call_id: 'a', content: '1' }, asked]), /tool_call_id \(b has none\)/);
    await assert.rejects(drain([asked, { role: 'tool', tool_call_id: 'a', content: '1' }, asked]), /tool message \(tool_call_id a\) must answer/);
  });

  void it('looks things up with the first lookup tool, and never hangs up a phone call (end_call)', () => {
    const asked: ChatMessage[] = [{ role: 'user', content: 'where is my order' }];
    const tool = (name: string) => ({ name, description: name, parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } });
    const call = simulatedToolCall(asked, { tools: [tool(END_CALL_TOOL_NAME), tool('look_up')] });
    assert.deepEqual([call?.function.name, call?.function.arguments], ['look_up', '{"q":"where is my order"}']);
    assert.equal(simulatedToolCall(asked, { tools: [tool(END_CALL_TOOL_NAME)] }), null);
  });
});

void describe('simulated TTS', () => {
  void it('first audio no sooner than firstByteMs; msPerChar of audible sound per character, paced by the real-time factor', async () => {
    const tts = new SimulatedSynthesizer(profile({ tts: { firstByteMs: 90, realTimeFactor: 0.2, chunkMs: 100, msPerChar: 50 } }).tts);
    const text = 'Twenty characters...';
    const startedAt = performance.now();
    const arrivals: number[] = [];
    let samples = 0;
    for await (const chunk of tts.stream(text, { voice: '', language: 'en-US', sampleRateHz: 24000 }, new AbortController().signal)) {
      arrivals.push(performance.now() - startedAt);
      assert.equal(chunk.sampleRateHz, 24000);
      assert.ok(rmsDbfs(chunk.pcm) > -30, 'not silence');
      samples += chunk.pcm.length;
    }
    assert.equal(samples, (text.length * 50 * 24000) / 1000, '1 s of audio for 20 characters at 50 ms each');
    assert.equal(arrivals.length, 10);
    arrivals.forEach((ms, i) => assert.ok(ms >= 90 + i * 100 * 0.2, `chunk ${i} at ${ms} ms`));
  });

  void it('noise is audible too, and abort stops the audio', async () => {
    const tts = new SimulatedSynthesizer(profile({ tts: { sound: 'noise', firstByteMs: 0, realTimeFactor: 0.5 } }).tts);
    const controller = new AbortController();
    const chunks: Int16Array[] = [];
    for await (const chunk of tts.stream('a long sentence that would last for seconds', { voice: '', language: 'en-US', sampleRateHz: 16000 }, controller.signal)) {
      chunks.push(chunk.pcm);
      controller.abort();
    }
    assert.equal(chunks.length, 1);
    assert.ok(rmsDbfs(chunks[0]!) > -30);
  });
});
