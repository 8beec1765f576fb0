/**
 * Voice-to-voice latency with and without speculative start, against the scripted Riva server
 * and the scripted OpenAI-compatible server, measured at the client as NVIDIA's blueprint does:
 * from the end of the user's speech in the sent audio to the first reply audio received.
 *
 *   node --import tsx bench/riva-latency.ts [turns]
 *
 * The backends take the per-stage times of NVIDIA's published single-stream run (ASR 40 ms,
 * LLM first token 126 ms, TTS first audio 78 ms) and Riva's two-pass end of utterance with the
 * gateway's defaults (stop_history 480 ms, first pass at 240 ms). Not a test: it prints figures.
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { bytesFromPcm16 } from '../src/audio/pcm.js';
import * as pb from '../src/gen/voice/v1/voice_pb.js';
import { deserializer, methodPath, serializer } from '../src/lib/grpc-service.js';
import { startRivaGateway } from '../test/support/riva-gateway.js';
import { silence, tone } from '../test/support/scripted-providers.js';
import { startScriptedOpenAiServer } from '../test/support/scripted-openai-server.js';
import { startScriptedRiva } from '../test/support/scripted-riva-server.js';

const TURNS = Number(process.argv[2] ?? 10);
const CHUNK_MS = 20;
const RATE_HZ = 16000;

interface TurnResult {
  voiceToVoiceMs: number;
  speculative: string;
}

/** One session of `turns` spoken questions at real-time pace; one result per turn. */
async function converse(address: string, turns: number): Promise<TurnResult[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const method = pb.VoiceGateway.method.converse;
  const call = client.makeBidiStreamRequest(methodPath(method), serializer(method.input), deserializer(method.output));
  const results: TurnResult[] = [];
  let firstAudioAt = 0;
  let replyDone: (() => void) | null = null;
  let speculative = 'none';
  call.on('data', (response: pb.ConverseResponse) => {
    const event = response.event;
    if (event.case === 'responseAudio' && firstAudioAt === 0) firstAudioAt = performance.now();
    if (event.case === 'turnMetrics') speculative = event.value.speculative === pb.SpeculativeOutcome.UNSPECIFIED ? 'none' : pb.SpeculativeOutcome[event.value.speculative].toLowerCase();
    if (event.case === 'error') console.error(`error: ${event.value.message}`);
    if (event.case === 'turnMetrics') replyDone?.();
  });
  call.on('error', () => undefined);
  call.write(create(pb.ConverseRequestSchema, { event: { case: 'start', value: {} } }));
  const send = async (pcm: Int16Array) => {
    const step = (RATE_HZ * CHUNK_MS) / 1000;
    const startedAt = performance.now();
    for (let at = 0, i = 1; at < pcm.length; at += step, i++) {
      call.write(create(pb.ConverseRequestSchema, { event: { case: 'audio', value: { data: bytesFromPcm16(pcm.subarray(at, at + step)) } } }));
      // A microphone delivers a chunk once its audio has been recorded: real-time pace.
      const waitMs = startedAt + i * CHUNK_MS - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
  for (let turn = 0; turn < turns; turn++) {
    firstAudioAt = 0;
    const done = new Promise<void>((resolve) => (replyDone = resolve));
    await send(silence(300));
    await send(tone(700 + 100 * (turn % 4)));
    const speechEndAt = performance.now();
    // The microphone stays open: silence until the reply has been played.
    let settled = false;
    void done.then(() => (settled = true));
    while (!settled) await send(silence(100));
    results.push({ voiceToVoiceMs: firstAudioAt - speechEndAt, speculative });
  }
  call.end();
  client.close();
  return results;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, mean ${mean.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
}

const riva = await startScriptedRiva({ asrResultDelayMs: 40, ttsFirstChunkDelayMs: 78, ttsChunkDelayMs: 10 });
const llm = await startScriptedOpenAiServer({ reply: 'It is sunny and warm today, with a light breeze.', firstTokenDelayMs: 126, tokenDelayMs: 15 });
try {
  for (const speculativeStart of ['false', 'true']) {
    const gateway = await startRivaGateway({ RIVA_URI: riva.address, LLM_BASE_URL: llm.baseUrl, SPECULATIVE_START: speculativeStart });
    try {
      await converse(gateway.address, 1); // warm-up: connections, first-call costs
      const results = await converse(gateway.address, TURNS);
      const outcomes = results.map((r) => r.speculative).join(',');
      console.log(`SPECULATIVE_START=${speculativeStart}: voice-to-voice over ${TURNS} turns: ${summary(results.map((r) => r.voiceToVoiceMs))} (speculative: ${outcomes})`);
    } finally {
      await gateway.close();
    }
  }
} finally {
  await riva.close();
  await llm.close();
}
