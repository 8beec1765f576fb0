import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelUnavailableError } from '../../src/providers/llm/model-cache.js';
import { resolveTurnModelFile } from '../../src/providers/turn/model-file.js';
import { SmartTurnModel } from '../../src/providers/turn/smart-turn.js';
import { ProviderError } from '../../src/providers/types.js';
import { COMPLETE_HZ, constantTurnModel, INCOMPLETE_HZ, pitchTurnModel, whisperTinySizedModel, wrongInputModel } from '../support/smart-turn-models.js';

const RATE = 16000;
const dir = mkdtempSync(join(tmpdir(), 'smart-turn-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `seconds` of speech-like tone at `hz`, then `silenceS` of silence, as 16 kHz PCM16. */
function turnEndingOn(hz: number, seconds = 1.5, silenceS = 0.3): Int16Array {
  const pcm = new Int16Array(Math.round((seconds + silenceS) * RATE));
  for (let i = 0; i < seconds * RATE; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / RATE));
  return pcm;
}

describe('Smart Turn through onnxruntime in its worker thread', () => {
  let model: SmartTurnModel;
  before(async () => {
    model = await SmartTurnModel.load({ modelPath: pitchTurnModel(join(dir, 'pitch.onnx')) });
  });
  after(() => model.release());

  test('a turn that the model hears as finished gets a probability near 1, an unfinished one near 0', async () => {
    const signal = new AbortController().signal;
    const complete = await model.predict(turnEndingOn(COMPLETE_HZ), signal);
    const incomplete = await model.predict(turnEndingOn(INCOMPLETE_HZ), signal);
    assert.ok(complete.probability > 0.9, `complete: ${complete.probability}`);
    assert.ok(incomplete.probability < 0.1, `incomplete: ${incomplete.probability}`);
    assert.ok(complete.computeMs >= 0);
    assert.equal(model.outputName, 'probability');
  });

  test('only the last 8 s count: an old high tone followed by 8 s of low tone is unfinished', async () => {
    const pcm = new Int16Array(10 * RATE);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * (i < 1.9 * RATE ? COMPLETE_HZ : INCOMPLETE_HZ) * i) / RATE));
    const { probability } = await model.predict(pcm, new AbortController().signal);
    assert.ok(probability < 0.1, `${probability}`);
  });

  test('questions from several sessions at once each get their own answer', async () => {
    const signal = new AbortController().signal;
    const answers = await Promise.all([COMPLETE_HZ, INCOMPLETE_HZ, COMPLETE_HZ, INCOMPLETE_HZ].map((hz) => model.predict(turnEndingOn(hz), signal)));
    assert.deepEqual(
      answers.map((a) => a.probability > 0.5),
      [true, false, true, false],
    );
  });

  test('a withdrawn question rejects with AbortError and the next one is answered', async () => {
    const controller = new AbortController();
    const asked = model.predict(turnEndingOn(COMPLETE_HZ), controller.signal);
    controller.abort();
    await assert.rejects(asked, { name: 'AbortError' });
    const next = await model.predict(turnEndingOn(COMPLETE_HZ), new AbortController().signal);
    assert.ok(next.probability > 0.9);
  });
});

test('a fixed-probability model answers the same whatever the audio', async () => {
  const model = await SmartTurnModel.load({ modelPath: constantTurnModel(join(dir, 'constant.onnx'), 0.3) });
  try {
    const { probability } = await model.predict(turnEndingOn(COMPLETE_HZ), new AbortController().signal);
    assert.ok(Math.abs(probability - 0.3) < 1e-5, `${probability}`);
  } finally {
    await model.release();
  }
});

test('a model the size of the real one (Whisper-Tiny encoder, ~8 M weights) loads and answers a probability', async () => {
  const path = whisperTinySizedModel(join(dir, 'tiny-sized.onnx'));
  const model = await SmartTurnModel.load({ modelPath: path });
  try {
    const { probability } = await model.predict(turnEndingOn(COMPLETE_HZ), new AbortController().signal);
    assert.ok(probability > 0 && probability < 1, `${probability}`);
  } finally {
    await model.release();
  }
});

test('a model without Smart Turn input_features [batch, 80, 800] is refused with what it has', async () => {
  const path = wrongInputModel(join(dir, 'wrong.onnx'));
  await assert.rejects(SmartTurnModel.load({ modelPath: path }), (err: Error) => {
    assert.ok(err instanceof ProviderError);
    assert.match(err.message, /is not a Smart Turn v3 model: it has no input "input_features" \(its inputs: audio\)/);
    return true;
  });
  await assert.rejects(SmartTurnModel.load({ modelPath: join(dir, 'missing.onnx') }), /cannot load .*missing\.onnx/);
});

describe('the model file: TURN_MODEL_PATH, or downloaded once and checked', () => {
  let server: Server;
  let baseUrl = '';
  let bytes: Buffer;
  let served = 0;
  before(async () => {
    bytes = readFileSync(constantTurnModel(join(dir, 'served.onnx'), 0.7));
    server = createServer((req, res) => {
      if (req.url === '/smart-turn-v3.2-cpu.onnx') {
        served++;
        res.writeHead(200, { 'content-length': bytes.length });
        res.end(bytes);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const settings = (over: Partial<Parameters<typeof resolveTurnModelFile>[0]>) => ({
    modelPath: '',
    url: `${baseUrl}/smart-turn-v3.2-cpu.onnx`,
    sha256: '',
    cacheDir: join(dir, 'cache'),
    stallTimeoutMs: 5000,
    progress: { write: () => true },
    ...over,
  });

  test('downloaded once with its sha256 checked, then taken from the cache', async () => {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const lines: string[] = [];
    const path = await resolveTurnModelFile(settings({ sha256, progress: { write: (t: string) => lines.push(t) > 0 } }));
    assert.equal(path, join(dir, 'cache', 'smart-turn-v3.2-cpu.onnx'));
    assert.ok(lines.some((l) => l.includes('100%')), lines.join(''));
    assert.ok(lines.some((l) => l.includes('checksum verified')));
    assert.equal(await resolveTurnModelFile(settings({ sha256 })), path);
    assert.equal(served, 1);
    const model = await SmartTurnModel.load({ modelPath: path });
    const { probability } = await model.predict(turnEndingOn(COMPLETE_HZ), new AbortController().signal);
    await model.release();
    assert.ok(Math.abs(probability - 0.7) < 1e-5);
  });

  test('a download with another sha256 is deleted and the message names TURN_MODEL_SHA256', async () => {
    await assert.rejects(resolveTurnModelFile(settings({ sha256: 'ab'.repeat(32), cacheDir: join(dir, 'cache-2') })), /TURN_MODEL_SHA256 is abab.*it was deleted/);
  });

  test('offline, the message says to set TURN_MODEL_PATH', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(resolveTurnModelFile(settings({ url: `http://127.0.0.1:${port}/smart-turn-v3.2-cpu.onnx`, cacheDir: join(dir, 'cache-3') })), (err: Error) => {
      assert.ok(err instanceof ModelUnavailableError);
      assert.match(err.message, /No Smart Turn model \(TURN_END_SOURCE=smart_turn\): TURN_MODEL_PATH is not set/);
      assert.match(err.message, /TURN_MODEL_PATH=\/path\/smart-turn-v3\.2-cpu\.onnx/);
      return true;
    });
  });

  test('a TURN_MODEL_PATH that is not an ONNX file is refused before loading', async () => {
    const text = join(dir, 'notes.onnx');
    writeFileSync(text, '<!DOCTYPE html>');
    await assert.rejects(resolveTurnModelFile(settings({ modelPath: text })), /TURN_MODEL_PATH=.*notes\.onnx is not a ONNX file: it starts with "<"/);
  });
});
