/**
 * `voice-gateway talk` (the built CLI) without a sound card: SoX's `rec` and `play` are replaced on
 * PATH by stand-ins (a scripted microphone, and a speaker that writes what it is given to a file),
 * against a real gateway process with scripted engines and the scripted OpenAI-compatible LLM.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { pcm16FromBytes } from '../../src/audio/pcm.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startToolGateway, type ToolGateway } from '../support/tool-gateway.js';
import { rms } from '../support/speech-fixtures.js';
import { waitUntil } from '../support/wait-until.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin/voice-gateway.js');
const REPLY = 'The kitchen lights are off now, and the heating is on.';

/** A folder for PATH holding executables `name` -> shell script body. */
async function binDir(scripts: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'talk-bin-'));
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

const FAKE_REC = `exec "${process.execPath}" --import tsx "${join(ROOT, 'test/support/fake-rec.ts')}" "$@"`;
// The speaker: what `talk` plays lands in $FAKE_PLAY_OUT (checked to be asked for raw PCM16 too).
const FAKE_PLAY = 'case "$*" in *"-t raw"*"-e signed-integer -b 16 -c 1"*) exec cat > "$FAKE_PLAY_OUT";; *) echo "fake play: bad args $*" >&2; exit 3;; esac';

async function talk(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'talk', ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}


/** Runs `talk` until the microphone has talked over the reply and `until` holds; then Ctrl-C. */
async function talkUntil(bin: string, server: string, extraArgs: string[], until: (stdout: string) => boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'talk-'));
  const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, FAKE_PLAY_OUT: join(dir, 'speaker.raw'), FAKE_REC_DONE: join(dir, 'rec-done') };
  const child = spawn(process.execPath, [CLI, 'talk', '--server', server, ...extraArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  try {
    await waitUntil(() => existsSync(env.FAKE_REC_DONE) || child.exitCode !== null, `the microphone to finish (stdout: ${stdout}; stderr: ${stderr})`, 30_000, 50);
    await waitUntil(() => until(stdout) || child.exitCode !== null, `the conversation to settle (stdout: ${stdout}; stderr: ${stderr})`, 30_000, 50);
  } finally {
    child.kill('SIGINT');
  }
  const [code] = await exited;
  const speaker = existsSync(env.FAKE_PLAY_OUT) ? pcm16FromBytes(await readFile(env.FAKE_PLAY_OUT)) : new Int16Array(0);
  return { code, stdout, stderr, speaker };
}

void describe('voice-gateway talk: missing audio tools', () => {
  void it('without SoX on PATH it says which package to install', async () => {
    const empty = await binDir({});
    const { code, stdout, stderr } = await talk([], { PATH: empty });
    assert.equal(code, 1);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /`rec` and `play` not found on PATH/);
    assert.match(lines[0]!, /apt-get install sox/);
    assert.match(lines[0]!, /libsox-fmt-pulse/);
    assert.match(lines[0]!, /libsox-fmt-alsa/);
  });

  void it('names the one that is missing', async () => {
    const onlyRec = await binDir({ rec: 'exit 0' });
    const { code, stderr } = await talk([], { PATH: onlyRec });
    assert.equal(code, 1);
    assert.match(stderr, /; `play` not found on PATH/);
  });
});

void describe('voice-gateway talk with a scripted microphone and speaker', () => {
  let llm: ScriptedServer;
  let gateway: GatewayProcess;
  let bin: string;
  before(async () => {
    llm = await startScriptedOpenAiServer({ reply: (req) => (req.messages.some((m) => m.role === 'assistant') ? 'Okay.' : REPLY) });
    gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, TURN_END_SILENCE_MS: '400', BARGE_IN_MIN_SPEECH_MS: '250' });
    bin = await binDir({ rec: FAKE_REC, play: FAKE_PLAY });
  });
  after(async () => {
    await gateway.stop();
    await llm.close();
  });

  const converse = (extraArgs: string[], until: (stdout: string) => boolean) => talkUntil(bin, gateway.grpcAddress, extraArgs, until);

  void it('half duplex (the default): the agent is heard out, its own voice in the microphone does not interrupt it', async () => {
    const replyDone = (out: string) => out.includes(REPLY) && /agent: .*\n/.test(out);
    const { code, stdout, stderr, speaker } = await converse([], replyDone);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Half duplex/);
    assert.match(stdout, /you: utterance of 800 ms\n/);
    assert.match(stdout, new RegExp(`agent: ${REPLY}\n`));
    assert.doesNotMatch(stdout, /interrupted/);
    assert.doesNotMatch(stdout, /utterance of 1500 ms/, 'the talk-over was muted');
    // The scripted TTS makes 50 ms of tone per character: the whole reply reached the speaker.
    const speakerMs = (speaker.length * 1000) / 16000;
    assert.ok(speakerMs > 0.9 * REPLY.length * 50, `the speaker played ${speakerMs} ms`);
    assert.ok(rms(speaker) > 500, 'and it was not silence');
  });

  void it('--full-duplex: speaking over the agent interrupts it and the speaker stops', async () => {
    const secondTurn = (out: string) => /agent: Okay\.\n/.test(out);
    const { code, stdout, stderr, speaker } = await converse(['--full-duplex'], secondTurn);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Full duplex/);
    assert.match(stdout, /you: utterance of 800 ms\n/);
    assert.match(stdout, /\[interrupted\]\n/);
    assert.match(stdout, /you: utterance of 1500 ms\n/);
    const speakerMs = (speaker.length * 1000) / 16000;
    // The first reply was cut about 0.75 s in (plus "Okay." after it): far less than its 2.7 s.
    assert.ok(speakerMs < 0.8 * REPLY.length * 50, `the speaker played ${speakerMs} ms`);
  });

  void it('a microphone that cannot be opened is a clear error', async () => {
    const { code, stderr } = await talk(['--server', gateway.grpcAddress], { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, FAKE_REC_FAIL: '1', FAKE_PLAY_OUT: join(tmpdir(), 'unused.raw') });
    assert.equal(code, 1);
    assert.match(stderr, /`rec` stopped \(exit code 2\) and the microphone is gone: rec FAIL formats: can't open input/);
    assert.match(stderr, /AUDIODEV/);
  });
});

void describe('voice-gateway talk --tools --tool-command', () => {
  let g: ToolGateway;
  let bin: string;
  let dir: string;
  before(async () => {
    g = await startToolGateway((req) => {
      const last = req.messages.at(-1)!;
      if (last.role === 'tool') return `Done: ${last.content}.`;
      if (req.messages.some((m) => m.role === 'tool')) return 'Okay.';
      return { toolCalls: [{ id: 'call_lights', name: 'lights_off', arguments: '{"room":"kitchen"}' }] };
    }, { TURN_END_SILENCE_MS: '400' });
    bin = await binDir({ rec: FAKE_REC, play: FAKE_PLAY });
    dir = await mkdtemp(join(tmpdir(), 'talk-tools-'));
    await writeFile(join(dir, 'tools.json'), JSON.stringify([{ name: 'lights_off', description: 'Turns a room\'s lights off', parameters: { type: 'object', properties: { room: { type: 'string' } }, required: ['room'] } }]));
  });
  after(() => g.stop());

  void it('the call is shown and run through the command; the agent says its result', async () => {
    const tools = ['--tools', join(dir, 'tools.json'), '--tool-command', 'cat > /dev/null; echo kitchen lights off'];
    const { code, stdout, stderr } = await talkUntil(bin, g.gateway.grpcAddress, tools, (out) => /agent: Done: kitchen lights off\.\n/.test(out));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\[tool lights_off\(\{"room":"kitchen"\}\)\]\n/);
    assert.match(stdout, /agent: Done: kitchen lights off\.\n/);
  });
});
