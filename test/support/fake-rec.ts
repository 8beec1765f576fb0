/**
 * A stand-in for SoX's `rec` (a microphone) for `voice-gateway talk` tests on machines with no
 * sound card. It checks that it was asked for raw mono PCM16 on stdout, then "speaks" at real-time
 * pace: a question (a tone, which the scripted recognizer hears as "utterance of 800 ms"), then
 * silence until the speaker file (FAKE_PLAY_OUT, written by the fake `play`) has reply audio, then
 * after FAKE_REC_TALK_OVER_DELAY_MS it talks over the reply for 1.5 s, then touches FAKE_REC_DONE
 * after a further second and stays silent until killed.
 * FAKE_REC_FAIL=1 instead fails the way `rec` does when it cannot open the device.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import { concat, silence, tone } from './scripted-providers.js';

const CHUNK_MS = 20;
const args = process.argv.slice(2);

if (process.env.FAKE_REC_FAIL === '1') {
  process.stderr.write("rec FAIL formats: can't open input  `default': snd_pcm_open error: No such file or directory\n");
  process.exit(2);
}

const wanted = ['-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1'];
const rateAt = args.indexOf('-r');
const rateHz = Number(args[rateAt + 1]);
for (let i = 0; i < wanted.length; i += 2) {
  const at = args.indexOf(wanted[i]!);
  if (at < 0 || args[at + 1] !== wanted[i + 1]) {
    process.stderr.write(`fake rec: expected ${wanted[i]} ${wanted[i + 1]} in ${args.join(' ')}\n`);
    process.exit(3);
  }
}
if (args.at(-1) !== '-' || !(rateHz >= 8000)) {
  process.stderr.write(`fake rec: expected -r <rate> and output to stdout (-) in ${args.join(' ')}\n`);
  process.exit(3);
}

const playOut = process.env.FAKE_PLAY_OUT ?? '';
const doneMarker = process.env.FAKE_REC_DONE ?? '';
const talkOverDelayMs = Number(process.env.FAKE_REC_TALK_OVER_DELAY_MS ?? 500);
const samplesPerChunk = (rateHz * CHUNK_MS) / 1000;
const quiet = new Int16Array(samplesPerChunk);

/** What to say next, chunk by chunk; empty means silence. */
let speech: Int16Array = concat(silence(300, rateHz), tone(800, rateHz));
let phase: 'question' | 'waiting' | 'talking-over' | 'done' = 'question';
let replyHeardAt = 0;
const startedAt = Date.now();
let sentMs = 0;

function nextChunk(): Int16Array {
  if (speech.length > 0) {
    const chunk = speech.subarray(0, samplesPerChunk);
    speech = speech.subarray(samplesPerChunk);
    return chunk.length === samplesPerChunk ? chunk : concat(chunk, new Int16Array(samplesPerChunk - chunk.length));
  }
  const now = Date.now();
  if (phase === 'question') phase = 'waiting';
  if (phase === 'waiting' && existsSync(playOut) && statSync(playOut).size > 0) {
    replyHeardAt ||= now;
    if (now - replyHeardAt >= talkOverDelayMs) {
      phase = 'talking-over';
      speech = concat(tone(1500, rateHz), silence(1000, rateHz));
      return nextChunk();
    }
  }
  if (phase === 'talking-over') {
    phase = 'done';
    if (doneMarker) writeFileSync(doneMarker, 'done');
  }
  return quiet;
}

function pump(): void {
  process.stdout.write(bytesFromPcm16(nextChunk()));
  sentMs += CHUNK_MS;
  setTimeout(pump, Math.max(0, startedAt + sentMs - Date.now()));
}
process.stdout.on('error', () => process.exit(0)); // talk went away
process.on('SIGTERM', () => process.exit(0));
pump();
