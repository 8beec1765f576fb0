/**
 * The scripted speech servers of test/support in a process of their own, for
 * bench/speech-servers.ts: as a real speech server, their work (multipart parsing, WAV reading)
 * does not run on the gateway's event loop. Each answer's first byte is reported over IPC as
 * `performance.timeOrigin + performance.now()`, a clock both processes share.
 */
import { startScriptedSpeechServer } from '../test/support/scripted-speech-server.js';
import { startScriptedWyoming } from '../test/support/scripted-wyoming-server.js';

export type ServerMessage =
  | { type: 'ready'; speechBaseUrl: string; wyomingUri: string }
  | { type: 'first_byte'; server: 'openai' | 'wyoming'; kind: 'asr' | 'tts'; atEpochMs: number };

const send = (message: ServerMessage) => process.send!(message);
const now = () => performance.timeOrigin + performance.now();

const speech = await startScriptedSpeechServer({
  sse: 'none',
  msPerChar: 10,
  chunkDelayMs: 20,
  onFirstByte: (r) => send({ type: 'first_byte', server: 'openai', kind: r.path.endsWith('/speech') ? 'tts' : 'asr', atEpochMs: now() }),
});
const wyoming = await startScriptedWyoming({
  msPerChar: 10,
  chunkDelayMs: 20,
  onFirstByte: (s) => send({ type: 'first_byte', server: 'wyoming', kind: s.received[0]?.type === 'synthesize' ? 'tts' : 'asr', atEpochMs: now() }),
});
send({ type: 'ready', speechBaseUrl: speech.baseUrl, wyomingUri: wyoming.uri });
process.on('disconnect', () => void Promise.all([speech.close(), wyoming.close()]).then(() => process.exit(0)));
