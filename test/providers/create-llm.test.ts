/**
 * Which LLM the settings choose, what the settings accept, and the start without any model:
 * `serve` stops with a message that says how to point it at a model.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { chosenLlm, createChatModel } from '../../src/providers/llm/create.js';
import { OpenAiCompatibleChatModel } from '../../src/providers/llm/openai-compatible.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'create-llm-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('LLM_PROVIDER', () => {
  void it('auto is the OpenAI-compatible server when LLM_BASE_URL is set, else the local model', () => {
    assert.equal(loadConfig({}).LLM_PROVIDER, 'auto');
    assert.equal(loadConfig({}).LLM_BASE_URL, '');
    assert.equal(chosenLlm(loadConfig({})), 'llama-cpp');
    assert.equal(chosenLlm(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:8000/v1' })), 'openai');
    assert.equal(chosenLlm(loadConfig({ LLM_PROVIDER: 'llama-cpp', LLM_BASE_URL: 'http://127.0.0.1:8000/v1' })), 'llama-cpp');
  });

  void it('openai with a base URL is the OpenAI-compatible client; without one, a clear error', async () => {
    assert.ok((await createChatModel(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:8000/v1' }))) instanceof OpenAiCompatibleChatModel);
    await assert.rejects(createChatModel(loadConfig({ LLM_PROVIDER: 'openai' })), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /LLM_PROVIDER=openai needs LLM_BASE_URL/);
      return true;
    });
  });

  void it('the local model settings have defaults and bounds', () => {
    const c = loadConfig({});
    assert.equal(c.LLM_THREADS, 1);
    assert.equal(c.LLM_CONTEXT_SIZE, 4096);
    assert.equal(c.LLM_MODEL_PATH, '');
    assert.equal(c.LLM_MODEL_SHA256, '');
    assert.equal(c.LLM_CACHE_DIR, '~/.cache/voice-gateway/models');
    assert.match(c.LLM_MODEL_URL, /^https:\/\/huggingface\.co\/.+\.gguf$/);
    assert.throws(() => loadConfig({ LLM_BASE_URL: 'ftp://host/v1' }), /LLM_BASE_URL="ftp:\/\/host\/v1" is not accepted/);
    assert.throws(() => loadConfig({ LLM_MODEL_SHA256: 'abc' }), /LLM_MODEL_SHA256="abc" is not accepted: .*64 hex digits/);
    assert.throws(() => loadConfig({ LLM_CONTEXT_SIZE: '512' }), /LLM_CONTEXT_SIZE="512" is not accepted/);
    assert.throws(() => loadConfig({ LLM_THREADS: '0' }), /LLM_THREADS="0" is not accepted/);
  });
});

void describe('serve with no model and no network', () => {
  void it('stops at once with how to point the gateway at a GGUF file or an OpenAI-compatible server', async () => {
    // A port nobody listens on: the download is refused, as it would be offline.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const cacheDir = join(dir, 'cache');
    const env = {
      ...process.env,
      HOST: '127.0.0.1',
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LLM_BASE_URL: '',
      LLM_PROVIDER: 'auto',
      LLM_MODEL_PATH: '',
      LLM_CACHE_DIR: cacheDir,
      LLM_MODEL_URL: `http://127.0.0.1:${port}/models/default.gguf`,
    };
    const serve = run(process.execPath, ['--import', 'tsx', '-e', "import('./src/cli/main.ts').then((m) => m.main(['serve']))"], { env, timeout: 60_000 });
    await assert.rejects(serve, (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /voice-gateway: No local language model: LLM_MODEL_PATH is not set, .* could not be downloaded from .*default\.gguf \(LLM_MODEL_URL\): ECONNREFUSED/);
      assert.match(err.stderr, /LLM_MODEL_PATH=\/path\/model\.gguf/);
      assert.match(err.stderr, /LLM_BASE_URL=http:\/\/host:port\/v1/);
      return true;
    });
    assert.deepEqual(readdirSync(cacheDir), [], 'nothing half-downloaded is left');
  });
});
