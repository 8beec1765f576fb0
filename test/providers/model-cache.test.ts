/**
 * Finding the local model: the user's GGUF file, or the default model downloaded once into the
 * cache from a real HTTP server on loopback (serving a tiny GGUF the test writes).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { cacheFileName, ModelUnavailableError, resolveModelFile, type ModelSourceSettings } from '../../src/providers/llm/model-cache.js';
import { writeTinyGguf } from '../support/tiny-gguf.js';

const root = mkdtempSync(join(tmpdir(), 'model-cache-test-'));
const ggufPath = join(root, 'tiny.gguf');
let gguf: Buffer;
let ggufSha256: string;

type Route = (res: import('node:http').ServerResponse) => void;
let server: Server;
let baseUrl: string;
const requests: string[] = [];
const routes = new Map<string, Route>();

before(async () => {
  writeTinyGguf(ggufPath, { seed: 3 });
  gguf = readFileSync(ggufPath);
  ggufSha256 = createHash('sha256').update(gguf).digest('hex');
  routes.set('/models/tiny.gguf', (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': gguf.length });
    // In pieces, as a real download arrives.
    const step = Math.ceil(gguf.length / 20);
    for (let at = 0; at < gguf.length; at += step) res.write(gguf.subarray(at, at + step));
    res.end();
  });
  routes.set('/models/page.gguf', (res) => {
    const html = '<html><body>Please log in to continue</body></html>';
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': html.length });
    res.end(html);
  });
  routes.set('/models/stalls.gguf', (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': gguf.length });
    res.write(gguf.subarray(0, 1000)); // then nothing more
  });
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const route = routes.get(req.url ?? '');
    if (route) return route(res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

/** Captures progress the way stderr would take it (not a terminal unless asked). */
function progressSink(isTTY = false) {
  const lines: string[] = [];
  return { isTTY, lines, write: (text: string) => lines.push(text) > 0 };
}

let cacheDir: string;
let caseNo = 0;
beforeEach(() => {
  cacheDir = join(root, `cache-${++caseNo}`);
});

function source(extra: Partial<ModelSourceSettings> = {}): ModelSourceSettings {
  return {
    modelPath: '',
    url: `${baseUrl}/models/tiny.gguf`,
    sha256: '',
    cacheDir,
    stallTimeoutMs: 10_000,
    progress: progressSink(),
    ...extra,
  };
}

const cacheFiles = () => (existsSync(cacheDir) ? readdirSync(cacheDir) : []);

const pointsAtBothWays = (message: string) => {
  assert.match(message, /LLM_MODEL_PATH=\/path\/model\.gguf/);
  assert.match(message, /LLM_BASE_URL=http:\/\/host:port\/v1/);
};

void describe('LLM_MODEL_PATH: the user\'s own GGUF file', () => {
  void it('is used as it is, with no download', async () => {
    const before = requests.length;
    assert.equal(await resolveModelFile(source({ modelPath: ggufPath, url: `${baseUrl}/models/tiny.gguf` })), ggufPath);
    assert.equal(requests.length, before);
    assert.deepEqual(cacheFiles(), []);
  });

  void it('a missing file, a folder or a file that is not GGUF is a clear error', async () => {
    await assert.rejects(resolveModelFile(source({ modelPath: join(root, 'nope.gguf') })), (err: Error) => {
      assert.ok(err instanceof ModelUnavailableError);
      assert.match(err.message, /^LLM_MODEL_PATH=.*nope\.gguf: no such file/);
      pointsAtBothWays(err.message);
      return true;
    });
    await assert.rejects(resolveModelFile(source({ modelPath: root })), /LLM_MODEL_PATH=.* is a folder, not a GGUF file/);
    const text = join(root, 'notes.gguf');
    writeFileSync(text, '<!DOCTYPE html>');
    await assert.rejects(resolveModelFile(source({ modelPath: text })), /LLM_MODEL_PATH=.*notes\.gguf is not a GGUF file: it starts with "<!DO" \(3c21444f\), a GGUF file starts with "GGUF"/);
  });
});

void describe('the default model, downloaded into LLM_CACHE_DIR', () => {
  void it('with the right checksum: downloaded once with progress, then reused without a request', async () => {
    const progress = progressSink();
    const before = requests.length;
    const path = await resolveModelFile(source({ sha256: ggufSha256.toUpperCase(), progress }));
    assert.equal(path, join(cacheDir, 'tiny.gguf'));
    assert.equal(requests.length, before + 1);
    assert.ok(readFileSync(path).equals(gguf), 'the cached file is the served file');
    assert.deepEqual(cacheFiles().sort(), ['tiny.gguf', 'tiny.gguf.sha256'], 'no temporary file is left');
    // Not a terminal: one line per 10 %, then where it went.
    const percents = progress.lines.map((l) => /: (\d+)% \(/.exec(l)?.[1]).filter(Boolean);
    assert.deepEqual(percents, ['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    assert.match(progress.lines.at(-1)!, new RegExp(`Saved .*tiny\\.gguf \\(sha256 ${ggufSha256}; checksum verified\\)`));

    const again = await resolveModelFile(source({ sha256: ggufSha256 }));
    assert.equal(again, path);
    assert.equal(requests.length, before + 1, 'the second call made no request');
  });

  void it('without a checksum the download is kept and its sha256 printed so it can be pinned', async () => {
    const progress = progressSink();
    const path = await resolveModelFile(source({ progress }));
    assert.ok(readFileSync(path).equals(gguf));
    assert.match(progress.lines.at(-1)!, new RegExp(`not pinned: confirm it and set LLM_MODEL_SHA256=${ggufSha256}`));
  });

  void it('with a wrong checksum: a clear error and nothing left in the cache', async () => {
    const wrong = 'ab'.repeat(32);
    await assert.rejects(resolveModelFile(source({ sha256: wrong })), (err: Error) => {
      assert.ok(err instanceof ModelUnavailableError);
      assert.match(err.message, new RegExp(`has sha256 ${ggufSha256}, but LLM_MODEL_SHA256 is ${wrong}; it was deleted`));
      return true;
    });
    assert.deepEqual(cacheFiles(), []);
  });

  void it('a cached file with a different checksum than asked for is downloaded again', async () => {
    mkdirSync(cacheDir, { recursive: true });
    const stale = join(root, 'stale.gguf');
    writeTinyGguf(stale, { seed: 99 });
    writeFileSync(join(cacheDir, 'tiny.gguf'), readFileSync(stale)); // put there by hand, no .sha256
    const before = requests.length;
    const path = await resolveModelFile(source({ sha256: ggufSha256 }));
    assert.equal(requests.length, before + 1);
    assert.ok(readFileSync(path).equals(gguf), 'replaced by the verified download');
  });

  void it('a cached file put there by hand with the right checksum is used without a request', async () => {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'tiny.gguf'), gguf);
    const before = requests.length;
    await resolveModelFile(source({ sha256: ggufSha256 }));
    assert.equal(requests.length, before);
    assert.equal(readFileSync(join(cacheDir, 'tiny.gguf.sha256'), 'utf8').trim(), ggufSha256, 'its checksum is kept for next time');
  });

  void it('server down: the start stops with how to point at a GGUF file or an OpenAI-compatible server', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(resolveModelFile(source({ url: `http://127.0.0.1:${port}/models/tiny.gguf` })), (err: Error) => {
      assert.ok(err instanceof ModelUnavailableError);
      assert.match(err.message, /^No local language model: LLM_MODEL_PATH is not set, none is cached in .* \(LLM_CACHE_DIR\), and the model could not be downloaded from http:\/\/127\.0\.0\.1:\d+\/models\/tiny\.gguf \(LLM_MODEL_URL\): ECONNREFUSED/);
      pointsAtBothWays(err.message);
      return true;
    });
    assert.deepEqual(cacheFiles(), []);
  });

  void it('an HTTP error is reported with its status and the same advice', async () => {
    await assert.rejects(resolveModelFile(source({ url: `${baseUrl}/models/missing.gguf` })), (err: Error) => {
      assert.match(err.message, /could not be downloaded from .*missing\.gguf \(LLM_MODEL_URL\): HTTP 404 Not Found/);
      pointsAtBothWays(err.message);
      return true;
    });
  });

  void it('a page that is not a model (a login page, say) is refused and not kept', async () => {
    await assert.rejects(resolveModelFile(source({ url: `${baseUrl}/models/page.gguf` })), /The file downloaded from .*page\.gguf is not a GGUF file: it starts with "<htm"/);
    assert.deepEqual(cacheFiles(), []);
  });

  void it('a download that stalls is abandoned after LLM_DOWNLOAD_STALL_MS and leaves nothing behind', async () => {
    await assert.rejects(resolveModelFile(source({ url: `${baseUrl}/models/stalls.gguf`, stallTimeoutMs: 300 })), (err: Error) => {
      assert.match(err.message, /the download broke after 1000 bytes: no data for 300 ms \(LLM_DOWNLOAD_STALL_MS\)/);
      pointsAtBothWays(err.message);
      return true;
    });
    assert.deepEqual(cacheFiles(), []);
  });

  void it('on a terminal the progress is a bar', async () => {
    const progress = progressSink(true);
    await resolveModelFile(source({ progress }));
    const drawn = progress.lines.join('');
    assert.match(drawn, /Downloading tiny\.gguf \[.*\] 100% \| \d+\.\d\/\d+\.\d MiB/);
    assert.ok(!progress.lines.some((l) => /: 10% \(/.test(l)), 'no log lines on a terminal');
  });

  void it('the cache file is named after the URL\'s file', () => {
    assert.equal(cacheFileName('https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf'), 'qwen2.5-0.5b-instruct-q4_k_m.gguf');
    assert.equal(cacheFileName('http://h/dl/My%20Model?x=1'), 'My_Model.gguf');
    assert.equal(cacheFileName('http://h/'), 'model.gguf');
    assert.equal(cacheFileName('http://h/..%2F..%2Fetc'), '_.._etc.gguf');
  });
});
