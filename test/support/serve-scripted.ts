/**
 * A real `serve` process for integration tests: the gateway's own configuration loading and
 * composition, with the scripted VAD, ASR and TTS of ./scripted-providers.ts and the real
 * OpenAI-compatible LLM provider (pointed by LLM_BASE_URL at the scripted SSE server).
 * The ASR hears "utterance of N ms" for a tone of N ms, so each session's transcript says which
 * audio it heard. Prints `READY <grpcPort> <httpPort>` when listening.
 *
 * SCRIPTED_FAULT_LANGUAGE=<tag>: the recognizer of a session in that language has a bug that
 * escapes every handler (an exception thrown from a timer and a rejection nobody handles, at the
 * first audio), to show the process-level guard at work.
 *
 * SCRIPTED_ASR_STABLE_AFTER_MS=<ms>: like Riva's early end of utterance, the recognizer sends a
 * stable interim after this much quiet (before its final at 400 ms), which starts speculation.
 */
import { loadConfig } from '../../src/config/load.js';
import { OpenAiCompatibleChatModel } from '../../src/providers/llm/openai-compatible.js';
import { startGateway } from '../../src/server.js';
import type { SpeechRecognizer } from '../../src/providers/types.js';
import { ScriptedAsr, ScriptedTts, ScriptedVad } from './scripted-providers.js';

const config = loadConfig(process.env);

/** `asr`, except for sessions in `language`, whose first audio sets off escaping errors. */
function faultyIn(language: string | undefined, asr: SpeechRecognizer): SpeechRecognizer {
  if (!language) return asr;
  return {
    sampleRateHz: asr.sampleRateHz,
    stream(opts, signal) {
      const stream = asr.stream(opts, signal);
      if (opts.language !== language) return stream;
      let armed = true;
      return {
        write(pcm) {
          if (armed) {
            armed = false;
            setTimeout(() => {
              throw new Error('scripted fault: an exception thrown from a recognizer timer');
            }, 0);
            void Promise.reject(new Error('scripted fault: a recognizer promise rejected with no handler'));
          }
          stream.write(pcm);
        },
        end: () => stream.end(),
        [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
      };
    },
  };
}

const gateway = await startGateway({
  config,
  guardProcess: true,
  providers: {
    vad: new ScriptedVad(),
    asr: faultyIn(
      process.env.SCRIPTED_FAULT_LANGUAGE,
      new ScriptedAsr((voicedMs) => `utterance of ${Math.round(voicedMs / 100) * 100} ms`, 400, {
        stableAfterMs: process.env.SCRIPTED_ASR_STABLE_AFTER_MS ? Number(process.env.SCRIPTED_ASR_STABLE_AFTER_MS) : undefined,
      }),
    ),
    llm: new OpenAiCompatibleChatModel({
      baseUrl: config.LLM_BASE_URL,
      model: config.LLM_MODEL,
      temperature: config.LLM_TEMPERATURE,
      maxTokens: config.LLM_MAX_TOKENS,
      requestTimeoutMs: config.LLM_REQUEST_TIMEOUT_MS,
    }),
    tts: new ScriptedTts({ msPerChar: Number(process.env.SCRIPTED_TTS_MS_PER_CHAR ?? 50) }),
  },
});
process.stdout.write(`READY ${gateway.grpcPort} ${gateway.httpPort}\n`);
process.once('SIGTERM', () => {
  gateway.drain(config.DRAIN_GRACE_MS).then(() => process.exit(0), () => process.exit(1));
});
