/** The `voice-gateway` command as users type it (the built CLI in bin/). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { readWav, writeWav } from '../../src/audio/wav.js';
import { SETTINGS } from '../../src/config/schema.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';

const run = promisify(execFile);
const CLI = 'bin/voice-gateway.js';

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

void describe('voice-gateway serve', () => {
  void it('--help lists every setting with its default', async () => {
    const { code, stdout: wrapped } = await cli(['serve', '--help']);
    assert.equal(code, 0);
    const stdout = wrapped.replace(/\s+/g, ' '); // help is wrapped to the terminal's width
    for (const [name, spec] of Object.entries(SETTINGS)) {
      assert.ok(stdout.includes(`--${name.toLowerCase().replaceAll('_', '-')}`), `flag for ${name}`);
      assert.ok(stdout.includes(`env ${name}`), `env name ${name}`);
      if (!('secret' in spec)) assert.ok(stdout.includes(`[default: ${JSON.stringify(spec.default)}]`), `default of ${name}`);
    }
  });

  for (const [name, value, accepted] of [
    ['LLM_TEMPERATURE', 'hot', /expected number/],
    ['GRPC_PORT', '70000', /<=65535/],
    ['TURN_END_SOURCE', 'telepathy', /"asr"\|"vad"\|"commit"/],
  ] as const) {
    void it(`a bad ${name} stops the start with one line and exit code 2`, async () => {
      const { code, stderr } = await cli(['serve'], { [name]: value });
      assert.equal(code, 2);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]!.includes(`${name}="${value}"`), lines[0]);
      assert.match(lines[0]!, accepted);
    });
  }

  void it('a flag overrides the environment and is checked the same way', async () => {
    const { code, stderr } = await cli(['serve', '--llm-max-tokens', '0'], { LLM_MAX_TOKENS: '100' });
    assert.equal(code, 2);
    assert.match(stderr, /LLM_MAX_TOKENS="0" is not accepted/);
  });
});

void describe('voice-gateway ask', () => {
  let llm: ScriptedServer;
  let gateway: GatewayProcess;
  let dir: string;
  before(async () => {
    llm = await startScriptedOpenAiServer({ reply: 'The kitchen lights are off now.' });
    gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, TURN_END_SILENCE_MS: '400' });
    dir = await mkdtemp(join(tmpdir(), 'ask-'));
  });
  after(async () => {
    await gateway.stop();
    await llm.close();
  });

  void it('--json prints the turns; --out writes the reply as heard; a 44.1 kHz WAV is converted', async () => {
    const question = join(dir, 'question.wav');
    const reply = join(dir, 'reply.wav');
    await writeFile(question, writeWav(concat(silence(300, 44100), tone(900, 44100), silence(300, 44100)), 44100));
    const { code, stdout, stderr } = await cli(['ask', '--in', question, '--out', reply, '--json', '--server', gateway.grpcAddress]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as { turns: Array<Record<string, unknown>> };
    assert.equal(result.turns.length, 1);
    const turn = result.turns[0]!;
    assert.deepEqual(Object.keys(turn).sort(), ['metrics', 'reply_audio_ms', 'response_status', 'response_text', 'transcript']);
    assert.equal(turn.transcript, 'utterance of 900 ms');
    assert.equal(turn.response_text, 'The kitchen lights are off now.');
    assert.equal(turn.response_status, 'completed');
    assert.equal(typeof (turn.metrics as Record<string, unknown>).voice_to_voice_ms, 'number');
    const heard = readWav(await readFile(reply));
    assert.equal(heard.sampleRateHz, 16000);
    assert.ok(heard.pcm.length / 16000 > 1, 'over a second of reply audio was played');
  });

  void it('a missing file is a clear error', async () => {
    const { code, stderr } = await cli(['ask', '--in', join(dir, 'nope.wav'), '--server', gateway.grpcAddress]);
    assert.notEqual(code, 0);
    assert.match(stderr, /nope\.wav/);
  });
});
