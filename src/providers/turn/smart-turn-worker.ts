/**
 * Worker thread of SmartTurnModel: the model's one InferenceSession, and the log-mel features.
 *
 * Why a thread: onnxruntime-node runs a model synchronously on the calling thread (its `run` only
 * defers the call with setImmediate), and a Whisper-Tiny encoder over 8 s of audio takes
 * 10-100 ms of CPU (the model authors' figures), with the features a few ms more: on the event
 * loop that would stall every session's audio. One thread serves all sessions, one request at a
 * time in arrival order (a request is short, and a turn asks again only after more silence).
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { SMART_TURN_FRAMES, WHISPER_MELS, WhisperFeatures } from '../../audio/whisper-features.js';
import type { FromWorker, ToWorker } from './smart-turn-protocol.js';

if (!parentPort) throw new Error('smart-turn-worker must run in a worker thread');
const port = parentPort;

const INPUT_NAME = 'input_features';

let model: { session: ort.InferenceSession; outputName: string; features: WhisperFeatures } | undefined;

function send(msg: FromWorker): void {
  port.postMessage(msg);
}

/** The model must take input_features [batch, 80, 800] as Smart Turn v3 does. */
function checkInput(session: ort.InferenceSession): string | null {
  const input = session.inputMetadata.find((m) => m.name === INPUT_NAME);
  if (!input) return `it has no input "${INPUT_NAME}" (its inputs: ${session.inputNames.join(', ') || 'none'})`;
  if (!input.isTensor || input.type !== 'float32') return `its input "${INPUT_NAME}" is not a float32 tensor`;
  const [, mels, frames] = input.shape;
  if (input.shape.length !== 3 || mels !== WHISPER_MELS || frames !== SMART_TURN_FRAMES) {
    return `its input "${INPUT_NAME}" has shape [${input.shape.join(', ')}], not [batch, ${WHISPER_MELS}, ${SMART_TURN_FRAMES}]`;
  }
  if (session.outputNames.length === 0) return 'it has no output';
  return null;
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  try {
    const session = await ort.InferenceSession.create(msg.modelPath, {
      intraOpNumThreads: msg.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const problem = checkInput(session);
    if (problem) {
      await session.release();
      send({ type: 'load_failed', message: `${msg.modelPath} is not a Smart Turn v3 model: ${problem}` });
      return;
    }
    model = { session, outputName: session.outputNames[0]!, features: await WhisperFeatures.create() };
    // One run on silence before saying it is ready: the first run compiles the FFT's WASM and the
    // graph's kernels (hundreds of ms), which must not fall on a user's first end of turn.
    await run(new Int16Array(0));
    send({ type: 'loaded', inputName: INPUT_NAME, outputName: model.outputName });
  } catch (e) {
    send({ type: 'load_failed', message: `cannot load ${msg.modelPath}: ${e instanceof Error ? e.message : String(e)}` });
  }
}

async function run(pcm: Int16Array): Promise<{ probability: number; featuresMs: number; inferenceMs: number }> {
  if (!model) throw new Error('the model is not loaded');
  const startedAt = performance.now();
  const features = model.features.compute(WhisperFeatures.window8s(pcm));
  const featuresAt = performance.now();
  const out = await model.session.run({ [INPUT_NAME]: new ort.Tensor('float32', features, [1, WHISPER_MELS, SMART_TURN_FRAMES]) });
  const value = (out[model.outputName] as ort.Tensor).data[0];
  const probability = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(probability)) throw new Error(`the model answered ${String(value)}, not a probability`);
  return { probability, featuresMs: featuresAt - startedAt, inferenceMs: performance.now() - featuresAt };
}

async function predict(msg: Extract<ToWorker, { type: 'predict' }>): Promise<void> {
  send({ type: 'result', id: msg.id, ...(await run(msg.pcm)) });
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'load') return load(msg);
  try {
    await predict(msg);
  } catch (e) {
    send({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => handle(msg));
});
