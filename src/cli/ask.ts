/** `voice-gateway ask`: speaks a WAV file to the gateway and prints each turn. */
import { readFile, writeFile } from 'node:fs/promises';
import { ask, type AskTurn } from '../client/ask-client.js';
import { loadClientTools } from '../client/tool-command.js';
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
  tools?: string;
  toolCommand?: string;
}

export async function runAsk(flags: AskFlags): Promise<void> {
  const pcm = await readWavAs(await readFile(flags.in), SEND_RATE_HZ);
  const tools = await loadClientTools(flags.tools, flags.toolCommand);
  const result = await ask({
    server: flags.server,
    pcm,
    sampleRateHz: SEND_RATE_HZ,
    fast: flags.fast,
    texts: flags.text,
    timeoutMs: Number(flags.timeoutS) * 1000,
    settings: flags.language ? { language: flags.language } : undefined,
    tools,
    onEvent: flags.json
      ? undefined
      : (response) => {
          const e = response.event;
          if (e.case === 'transcript') process.stdout.write(`\r\x1b[K  you: ${e.value.text}`);
          if (e.case === 'responseStarted') process.stdout.write('\n');
          if (e.case === 'toolCall') process.stdout.write(`\n  tool:  ${e.value.name}(${e.value.argumentsJson})`);
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
    ...(turn.tool_calls ?? []).map((c) => `  tool:    ${c.name}(${c.arguments}) -> ${c.cancelled ? `cancelled (${c.cancelled})` : `${c.is_error ? 'error: ' : ''}${c.output ?? '(no result)'}`}`),
    `  status:  ${turn.response_status}, ${Math.round(turn.reply_audio_ms)} ms of reply audio`,
    `  metrics: ${metrics}`,
    '',
  ].join('\n');
}
