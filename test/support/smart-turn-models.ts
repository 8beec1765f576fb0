/**
 * ONNX models with Smart Turn v3's interface (input `input_features` float32 [batch, 80, 800],
 * a probability out) written by the tests themselves (./onnx-model.ts):
 *
 * - `pitchTurnModel`: the test decides through the audio. Over the last 3 s of features it
 *   compares the upper 40 mel bins with the lower 40: a turn that ends on a high tone (above
 *   ~1.5 kHz) is "complete" (p near 1), one that ends on a low tone (a few hundred Hz) is
 *   "incomplete" (p near 0). It reads the real features, so it also shows they arrive in the
 *   right layout (mel bins by rows, newest frames last).
 * - `constantTurnModel`: always the same probability.
 * - `whisperTinySizedModel`: the shape and size of the real model (Whisper-Tiny encoder: two
 *   convolutions, 4 transformer layers of width 384 with 6 heads, then attention pooling and a
 *   small classifier; about 8 M float32 weights, random), to measure what a decision costs.
 */
import { OnnxGraph, seededWeights } from './onnx-model.js';

const MELS = 80;
const FRAMES = 800;
const INPUT = 'input_features';
const OUTPUT = 'probability';

/** Tones for the pitch model: end a turn on COMPLETE_HZ to make it complete, on INCOMPLETE_HZ to make it not. */
export const COMPLETE_HZ = 3000;
export const INCOMPLETE_HZ = 300;

export function pitchTurnModel(path: string): string {
  const g = new OnnxGraph();
  const x = g.input(INPUT, ['batch', MELS, FRAMES]);
  const recent = g.node('Slice', [x, g.ints([FRAMES - 300]), g.ints([FRAMES]), g.ints([2])]);
  const mean = g.node('ReduceMean', [recent], { axes: [2], keepdims: 0 }); // [batch, 80]
  const weights = Float32Array.from({ length: MELS }, (_, m) => (m >= MELS / 2 ? 1 : -1) * 4);
  const score = g.node('MatMul', [mean, g.weight([MELS, 1], weights)]); // [batch, 1]
  g.node('Sigmoid', [score], {}, OUTPUT);
  g.output(OUTPUT, ['batch', 1]);
  return g.writeTo(path);
}

export function constantTurnModel(path: string, probability: number): string {
  const g = new OnnxGraph();
  const x = g.input(INPUT, ['batch', MELS, FRAMES]);
  const mean = g.node('ReduceMean', [x], { axes: [1, 2], keepdims: 0 }); // [batch]
  const zero = g.node('Mul', [mean, g.weight([1], [0])]);
  const logit = g.node('Add', [zero, g.weight([1], [Math.log(probability / (1 - probability))])]);
  const p = g.node('Sigmoid', [logit]);
  g.node('Unsqueeze', [p, g.ints([1])], {}, OUTPUT);
  g.output(OUTPUT, ['batch', 1]);
  return g.writeTo(path);
}

/** A model whose input is not Smart Turn's, to check that it is refused. */
export function wrongInputModel(path: string): string {
  const g = new OnnxGraph();
  const x = g.input('audio', ['batch', 128000]);
  g.node('ReduceMean', [x], { axes: [1], keepdims: 1 }, OUTPUT);
  g.output(OUTPUT, ['batch', 1]);
  return g.writeTo(path);
}

const WIDTH = 384;
const HEADS = 6;
const LAYERS = 4;
const FF = 1536;
const POSITIONS = FRAMES / 2;

export function whisperTinySizedModel(path: string, seed = 1): string {
  const g = new OnnxGraph();
  let n = seed;
  const w = (dims: number[], scale = 0.05) => g.weight(dims, seededWeights(dims.reduce((a, b) => a * b, 1), scale, n++));
  const ones = (size: number) => g.weight([size], new Float32Array(size).fill(1));
  const gelu = (v: string) => {
    const erf = g.node('Erf', [g.node('Div', [v, g.weight([1], [Math.SQRT2])])]);
    return g.node('Mul', [g.node('Mul', [v, g.node('Add', [erf, g.weight([1], [1])])]), g.weight([1], [0.5])]);
  };
  const layerNorm = (v: string, size: number) => g.node('LayerNormalization', [v, ones(size), w([size], 0.01)], { axis: -1, epsilon: { float: 1e-5 } });
  const linear = (v: string, inSize: number, outSize: number) => g.node('Add', [g.node('MatMul', [v, w([inSize, outSize])]), w([outSize], 0.01)]);

  const x = g.input(INPUT, ['batch', MELS, FRAMES]);
  const conv1 = gelu(g.node('Conv', [x, w([WIDTH, MELS, 3]), w([WIDTH], 0.01)], { kernel_shape: [3], pads: [1, 1] }));
  const conv2 = gelu(g.node('Conv', [conv1, w([WIDTH, WIDTH, 3]), w([WIDTH], 0.01)], { kernel_shape: [3], pads: [1, 1], strides: [2] }));
  let h = g.node('Add', [g.node('Transpose', [conv2], { perm: [0, 2, 1] }), w([POSITIONS, WIDTH], 0.02)]); // [batch, 400, 384]

  const headShape = g.ints([0, POSITIONS, HEADS, WIDTH / HEADS]);
  const mergedShape = g.ints([0, POSITIONS, WIDTH]);
  for (let layer = 0; layer < LAYERS; layer++) {
    const normed = layerNorm(h, WIDTH);
    const heads = (v: string) => g.node('Transpose', [g.node('Reshape', [v, headShape])], { perm: [0, 2, 1, 3] }); // [b, 6, 400, 64]
    const q = heads(linear(normed, WIDTH, WIDTH));
    const k = g.node('Transpose', [g.node('Reshape', [g.node('MatMul', [normed, w([WIDTH, WIDTH])]), headShape])], { perm: [0, 2, 3, 1] }); // [b, 6, 64, 400]
    const v = heads(linear(normed, WIDTH, WIDTH));
    const scores = g.node('Mul', [g.node('MatMul', [q, k]), g.weight([1], [1 / Math.sqrt(WIDTH / HEADS)])]);
    const attended = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.node('Reshape', [g.node('Transpose', [attended], { perm: [0, 2, 1, 3] }), mergedShape]);
    h = g.node('Add', [h, linear(merged, WIDTH, WIDTH)]);
    h = g.node('Add', [h, linear(gelu(linear(layerNorm(h, WIDTH), WIDTH, FF)), FF, WIDTH)]);
  }
  h = layerNorm(h, WIDTH);
  // Attention pooling over time, then the classifier.
  const attention = g.node('Softmax', [linear(g.node('Tanh', [linear(h, WIDTH, 256)]), 256, 1)], { axis: 1 }); // [b, 400, 1]
  const pooled = g.node('ReduceSum', [g.node('Mul', [h, attention]), g.ints([1])], { keepdims: 0 }); // [b, 384]
  const hidden = gelu(linear(gelu(layerNorm(linear(pooled, WIDTH, 256), 256)), 256, 64));
  g.node('Sigmoid', [linear(hidden, 64, 1)], {}, OUTPUT);
  g.output(OUTPUT, ['batch', 1]);
  return g.writeTo(path);
}
