/**
 * A phone call on the local engines, as a Twilio number would make it: the built `voice-gateway
 * serve` (Silero VAD, pocketsphinx, espeak-ng) with the LLM pointed at the scripted
 * OpenAI-compatible server, and the scripted Twilio peer speaking a flite question converted to
 * 8 kHz mu-law by the project's own audio code. Silero takes the 8 kHz audio as it is (its 8 kHz
 * weights); pocketsphinx gets it resampled to 16 kHz. The recognizer hears narrowband audio, the reply
 * comes back as 8 kHz mu-law synthesized at that rate.
 *
 * pocketsphinx's only English model (Debian's pocketsphinx-en-us) is trained on 16 kHz speech and
 * does not understand band-limited 8 kHz audio: the question below, recognized word for word at
 * 16 kHz, comes out as "hm" after the phone network's 8 kHz mu-law (and as "but i'd rather like
 * compared today" at 8 kHz without mu-law). So this test checks the call end to end (a turn is
 * heard, answered and played back in espeak speech) and not the words; real phone calls need a
 * recognizer that takes narrowband speech (Riva's telephony models).
 *
 * Needs `npm run build` first (scripts/test.sh does it): the CLI in bin/ runs dist/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeG711 } from '../../src/audio/g711.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { mulawSilence, mulawSpeech } from '../support/phone-audio.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { rms } from '../support/speech-fixtures.js';
import { eventually } from '../support/telephony-gateway.js';
import { TwilioPeer } from '../support/twilio-peer.js';

const GREETING = 'Hello, this is the weather line.';
const REPLY = 'It is sunny in Paris today.';

let llm: ScriptedServer;
let gateway: GatewayProcess;

before(async () => {
  assert.ok(existsSync('dist/cli/main.js'), 'dist/ is missing: run `npm run build` first (scripts/test.sh does)');
  llm = await startScriptedOpenAiServer({ reply: REPLY, tokenDelayMs: 5 });
  gateway = await startGatewayProcess(['bin/voice-gateway.js', 'serve'], { LLM_PROVIDER: 'openai', LLM_BASE_URL: llm.baseUrl, LOG_LEVEL: 'warn', TELEPHONY_GREETING: GREETING });
});

after(async () => {
  await gateway?.stop();
  await llm?.close();
});

void describe('a phone call on the local engines', () => {
  void it('greets, hears a question spoken over 8 kHz mu-law as a turn and answers in espeak speech', async () => {
    const peer = await TwilioPeer.connect(`ws://127.0.0.1:${gateway.httpPort}/v1/telephony/twilio`);
    await eventually(() => peer.heardMs > 1000 && peer.echoedMarks.length === peer.received.filter((m) => m.event === 'mark').length && peer.heardMs >= peer.receivedAudioMs() - 20, 'the greeting heard whole', 60_000);
    const greeting = decodeG711(Buffer.concat(peer.heard), 'mulaw');
    assert.ok(rms(greeting) > 300, `the greeting is speech, not silence (rms ${rms(greeting)})`);
    const heardBefore = peer.heardMs;
    await peer.speak(await mulawSpeech('what is the weather like in paris today'));
    await peer.speak(mulawSilence(2500));
    const request = await eventually(() => llm.requests.at(-1), 'the LLM request', 60_000);
    const said = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    assert.ok(said.length > 0, 'the caller\'s speech became a user turn (Silero VAD and pocketsphinx on 8 kHz audio)');
    assert.equal(request.messages.find((m) => m.role === 'assistant')?.content, GREETING);
    await eventually(() => peer.heardMs > heardBefore + 1000, 'the reply heard', 60_000);
    const reply = decodeG711(Buffer.concat(peer.heard), 'mulaw').subarray((heardBefore * 8000) / 1000);
    assert.ok(rms(reply) > 300, `the reply is speech (rms ${rms(reply)})`);
    peer.hangUp();
    await peer.closed;
  });
});
