/** `voice-gateway ask`: speaks a WAV file to the gateway and prints each turn. */
import { readFile, writeFile } from 'node:fs/promises';
import { ask, type AskTurn } from '../client/ask-client.js';
import { readWavAs, writeWav } from '../audio/wav.js';

const SEND_RATE_HZ = 16000;

interface AskFlags {
  in: string;
  out?: string;
  json?: boolean;
  server: string;
  fast?: boolean;
  language?: string;
  text?: string[];
  timeoutS: string;
}

export async function runAsk(flags: AskFlags): Promise<void> {
  const pcm = await readWavAs(await readFile(flags.in), SEND_RATE_HZ);
  const result = await ask({
    server: flags.server,
    pcm,
    sampleRateHz: SEND_RATE_HZ,
    fast: flags.fast,
    texts: flags.text,
    timeoutMs: Number(flags.timeoutS) * 1000,
    settings: flags.language ? { language: flags.language } : undefined,
    onEvent: flags.json
      ? undefined
      : (response) => {
          const e = response.event;
          if (e.case === 'transcript') process.stdout.write(`\r\x1b[K  you: ${e.value.text}`);
          if (e.case === 'responseStarted') process.stdout.write('\n');
        },
  });
  if (flags.out) await writeFile(flags.out, writeWav(result.heardPcm, result.outputSampleRateHz));
  if (flags.json) {
    const turns = result.turns.map(({ turn_id: _id, ...turn }) => turn);
    process.stdout.write(`${JSON.stringify({ turns, errors: result.errors })}\n`);
  } else {
    process.stdout.write('\n');
    result.turns.forEach((turn, i) => process.stdout.write(describeTurn(i + 1, turn)));
    for (const error of result.errors) process.stdout.write(`error ${error.code}: ${error.message}\n`);
  }
  if (result.errors.length > 0 && result.turns.length === 0) process.exitCode = 1;
}

function describeTurn(n: number, turn: AskTurn): string {
  const metrics = Object.entries(turn.metrics)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `turn ${n}`,
    `  you:     ${turn.transcript}`,
    `  agent:   ${turn.response_text}`,
    `  status:  ${turn.response_status}, ${Math.round(turn.reply_audio_ms)} ms of reply audio`,
    `  metrics: ${metrics}`,
    '',
  ].join('\n');
}
