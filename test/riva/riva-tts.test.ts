/** The Riva TTS provider against the scripted Riva server: real gRPC on loopback. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { AudioEncoding } from '../../src/gen/riva/proto/riva_audio_pb.js';
import { rivaChannels, rivaTtsSettings } from '../../src/providers/riva/create.js';
import { RivaSynthesizer } from '../../src/providers/riva/tts.js';
import { ProviderError, type TtsChunk } from '../../src/providers/types.js';
import { startScriptedRiva, type ScriptedRiva } from '../support/scripted-riva-server.js';
import { waitUntil } from '../support/wait-until.js';

let riva: ScriptedRiva;

before(async () => {
  riva = await startScriptedRiva({ ttsMaxChars: 60, ttsMsPerChar: 60 });
});
after(() => riva.close());

function synthesizer(env: Record<string, string> = {}): RivaSynthesizer {
  const config = loadConfig({ RIVA_URI: riva.address, TTS_MAX_PIECE_CHARS: '60', ...env });
  return new RivaSynthesizer(rivaChannels(config).tts, rivaTtsSettings(config));
}

async function synthesize(tts: RivaSynthesizer, text: string, signal = new AbortController().signal, sampleRateHz = 22050): Promise<TtsChunk[]> {
  const chunks: TtsChunk[] = [];
  for await (const chunk of tts.stream(text, { voice: 'English-US.Female-1', language: 'en-US', sampleRateHz }, signal)) chunks.push(chunk);
  return chunks;
}


void describe('Riva TTS provider', () => {
  void it('sends one request then half-closes, with voice, language and rate, and streams PCM at that rate', async () => {
    const calls = riva.ttsCalls.length;
    const chunks = await synthesize(synthesizer(), 'Hello there.');
    const call = riva.ttsCalls[calls]!;
    assert.equal(call.requests.length, 1);
    assert.equal(call.halfClosedAfter, 1, 'half-closed right after the one request (servers before 2.25 take one)');
    const [request] = call.requests;
    assert.equal(request!.text, 'Hello there.');
    assert.equal(request!.voiceName, 'English-US.Female-1');
    assert.equal(request!.languageCode, 'en-US');
    assert.equal(request!.sampleRateHz, 22050);
    assert.equal(request!.encoding, AudioEncoding.LINEAR_PCM);
    assert.match(request!.id?.value ?? '', /^voice-gateway-tts-/);
    assert.ok(chunks.length > 1, 'streamed in several chunks');
    assert.ok(chunks.every((c) => c.sampleRateHz === 22050));
    const samples = chunks.reduce((n, c) => n + c.pcm.length, 0);
    assert.equal(samples * 2, call.audioBytes, 'every byte the server sent, as samples');
    assert.ok(Math.abs(samples - 22050 * 0.72) < 50, `12 characters at 60 ms: ${samples} samples`);
  });

  void it('cuts long text into pieces within the limit, at word boundaries, one call each', async () => {
    const calls = riva.ttsCalls.length;
    const text = 'The weather today is sunny with a light breeze from the west, and it will stay that way until the evening when clouds roll in from the sea and bring some rain.';
    await synthesize(synthesizer(), text);
    const requests = riva.ttsCalls.slice(calls).flatMap((c) => c.requests.map((r) => r.text));
    assert.ok(requests.length >= 3, requests.join(' | '));
    assert.ok(requests.every((t) => t.length <= 60), requests.join(' | '));
    assert.equal(requests.join(' '), text);
  });

  void it('barge-in cancels the call: the server sees the cancellation', async () => {
    const slow = await startScriptedRiva({ ttsChunkDelayMs: 100 });
    try {
      const config = loadConfig({ RIVA_URI: slow.address });
      const tts = new RivaSynthesizer(rivaChannels(config).tts, rivaTtsSettings(config));
      const controller = new AbortController();
      let received = 0;
      for await (const chunk of tts.stream('A long sentence that takes a while to say.', { voice: '', language: 'en-US', sampleRateHz: 16000 }, controller.signal)) {
        received += chunk.pcm.length;
        controller.abort(); // the user spoke over the first chunk
      }
      assert.ok(received > 0);
      await waitUntil(() => slow.ttsCalls[0]!.cancelled, 'cancellation seen by the server');
      assert.equal(slow.ttsCalls[0]!.finished, false);
    } finally {
      await slow.close();
    }
  });

  void it('a stalled synthesis fails at its deadline with a tts error; the server sees the call end', async () => {
    const calls = riva.ttsCalls.length;
    riva.stallTts(1);
    try {
      await assert.rejects(synthesize(synthesizer({ RIVA_TTS_TIMEOUT_MS: '300' }), 'Hello.'), (error: unknown) => {
        assert.ok(error instanceof ProviderError);
        assert.equal(error.kind, 'tts');
        assert.match(error.message, /DEADLINE_EXCEEDED/);
        assert.match(error.message, /RIVA_TTS_TIMEOUT_MS/);
        return true;
      });
      await waitUntil(() => riva.ttsCalls[calls]!.cancelled, 'the server sees the deadline');
    } finally {
      riva.stallTts(0);
    }
  });

  void it('an unknown voice is refused with a hint', async () => {
    const tts = synthesizer();
    const chunks: TtsChunk[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of tts.stream('Hi.', { voice: 'Nobody', language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal)) chunks.push(chunk);
      })(),
      /INVALID_ARGUMENT: Model not available for voice Nobody.*TTS_VOICE/,
    );
  });

  void it('UNAVAILABLE is a tts error naming RIVA_URI', async () => {
    riva.refuseTts(1);
    await assert.rejects(synthesize(synthesizer(), 'Hi.'), /UNAVAILABLE.*check RIVA_URI/);
  });

  void it('lists the voices of GetRivaSynthesisConfig', async () => {
    assert.deepEqual(await synthesizer().listVoices(), [
      { name: 'English-US.Female-1', languages: ['en-US'] },
      { name: 'English-US.Male-1', languages: ['en-US'] },
    ]);
  });
});
