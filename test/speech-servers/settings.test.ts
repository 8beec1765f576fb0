/** Speech-server settings that cannot work stop `voice-gateway serve` with one line and exit code 2. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { parseWyomingUri } from '../../src/providers/wyoming/connection.js';

const run = promisify(execFile);

async function serve(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'serve'], { env: { ...process.env, HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', ...env }, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

const CASES: Array<[string, Record<string, string>, RegExp]> = [
  ['ASR_PROVIDER=openai without a server', { ASR_PROVIDER: 'openai' }, /ASR_PROVIDER=openai needs ASR_BASE_URL, the OpenAI-compatible API, e\.g\. ASR_BASE_URL=http:\/\/127\.0\.0\.1:8000\/v1/],
  ['ASR_PROVIDER=openai without a model', { ASR_PROVIDER: 'openai', ASR_BASE_URL: 'http://127.0.0.1:8000/v1' }, /ASR_PROVIDER=openai needs ASR_MODEL/],
  ['TTS_PROVIDER=openai without a model', { TTS_PROVIDER: 'openai', TTS_BASE_URL: 'http://127.0.0.1:8880/v1' }, /TTS_PROVIDER=openai needs TTS_MODEL, the speech model, e\.g\. TTS_MODEL=kokoro/],
  ['a Wyoming address that is not tcp://host:port', { ASR_PROVIDER: 'wyoming', WYOMING_ASR_URI: 'http://whisper:10300' }, /WYOMING_ASR_URI="http:\/\/whisper:10300" is not accepted: expected tcp:\/\/host:port/],
  ['a base URL that is not http', { TTS_BASE_URL: 'ftp://kokoro:8880/v1' }, /TTS_BASE_URL="ftp:\/\/kokoro:8880\/v1" is not accepted/],
  ['a PCM rate out of range', { TTS_OPENAI_SAMPLE_RATE: '96000' }, /TTS_OPENAI_SAMPLE_RATE="96000" is not accepted: .*<=48000/],
  ['an utterance bound below 5 s', { ASR_MAX_UTTERANCE_MS: '1000' }, /ASR_MAX_UTTERANCE_MS="1000" is not accepted: .*>=5000/],
];

void describe('speech-server settings', () => {
  for (const [name, env, message] of CASES) {
    void it(`${name}: one line saying what to set, exit code 2`, async () => {
      const { code, stderr } = await serve(env);
      assert.equal(code, 2, stderr);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, message);
    });
  }

  void it('Wyoming addresses: tcp://host:port or host:port, IPv6 in brackets', () => {
    assert.deepEqual(parseWyomingUri('tcp://whisper:10300'), { host: 'whisper', port: 10300, uri: 'tcp://whisper:10300' });
    assert.deepEqual(parseWyomingUri('[::1]:10200'), { host: '::1', port: 10200, uri: '[::1]:10200' });
    assert.throws(() => parseWyomingUri('tcp://whisper:99999'), /is not tcp:\/\/host:port/);
  });
});
