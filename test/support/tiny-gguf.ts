/**
 * Writes a tiny random-weight llama model as a GGUF v3 file, so that tests run the real
 * node-llama-cpp engine with no download. The model is nonsense (random weights) but it is a
 * complete model: llama architecture, an SPM vocabulary with byte fallback (any text tokenizes),
 * every tensor llama.cpp needs, all F32. About 0.5 MB.
 */
import { writeFileSync } from 'node:fs';

export interface TinyGgufOptions {
  /** Seed of the weights: the same seed writes the same file. */
  seed?: number;
  embeddingLength?: number;
  blockCount?: number;
  headCount?: number;
  feedForwardLength?: number;
  contextLength?: number;
  /**
   * A scripted model instead of a random one: greedy decoding then writes, after each token
   * named here, the token it maps to (token texts as in the vocabulary, `▁` for a leading space;
   * `</s>` ends the text). Every other token is followed by `</s>`. Words that are not in the
   * vocabulary yet are added to it. How: every layer's weights are zero, so the last hidden state
   * is the current token's embedding; embeddings are one-hot (one dimension per scripted token,
   * one shared by the rest) and each output row holds a large weight on the dimension of the
   * token it should follow. It is a bigram model written by hand, run by the real engine.
   */
  nextToken?: Record<string, string>;
}

/** GGUF metadata value types (gguf.md in ggml). */
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, STRING: 8, ARRAY: 9 } as const;
const GGML_TYPE_F32 = 0;
const ALIGNMENT = 32;
/** SentencePiece token types. */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

type Meta =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'str'; value: string }
  | { type: 'str[]'; value: string[] }
  | { type: 'f32[]'; value: number[] }
  | { type: 'i32[]'; value: number[] };

/** Little-endian byte writer that grows as needed. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.room(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }
  i32(v: number): void {
    this.room(4);
    this.length = this.buf.writeInt32LE(v, this.length);
  }
  u64(v: number): void {
    this.room(8);
    this.length = this.buf.writeBigUInt64LE(BigInt(v), this.length);
  }
  f32(v: number): void {
    this.room(4);
    this.length = this.buf.writeFloatLE(v, this.length);
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.raw(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.raw(new Uint8Array(pad));
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** mulberry32: a small seeded PRNG, so the file is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['▁', '▁the', '▁a', '▁is', '▁it', '▁hello', '▁weather', '▁sunny', '▁today', '▁yes', '▁no', '.', ','];

function vocabulary(extraWords: readonly string[] = []): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_BYTE);
  }
  for (const word of [...WORDS, ...extraWords]) {
    if (tokens.includes(word)) continue;
    tokens.push(word);
    types.push(TOKEN_NORMAL);
  }
  // SPM merges by score: longer words win over their bytes.
  const scores = tokens.map((t, i) => (types[i] === TOKEN_NORMAL ? -1 / t.length : 0));
  return { tokens, scores, types };
}

/**
 * Whether greedy decoding may pick token `id`. The output rows of the others are zero, so their
 * logit is 0 while about half of the printable tokens score above it: with temperature 0 the
 * model never ends the text early (a test's reply runs exactly to maxTokens) and writes only
 * printable ASCII and words, which the gateway can speak (control bytes and broken UTF-8 it
 * would drop, leaving nothing to say).
 */
function printable(id: number): boolean {
  const FIRST_BYTE_TOKEN = 3;
  if (id < FIRST_BYTE_TOKEN) return false; // <unk>, <s>, </s>
  const byte = id - FIRST_BYTE_TOKEN;
  return byte >= 256 || (byte >= 0x20 && byte <= 0x7e);
}

/** The weights of the hand-written bigram model (see TinyGgufOptions.nextToken), by tensor and index. */
function scriptedWeights(script: Array<[string, string]>, tokens: string[], E: number): (tensor: string, i: number) => number {
  const id = (text: string) => {
    const at = tokens.indexOf(text);
    if (at < 0) throw new Error(`token ${JSON.stringify(text)} is not in the vocabulary`);
    return at;
  };
  if (script.length >= E) throw new Error(`at most ${E - 1} scripted tokens with embeddingLength ${E}`);
  // Dimension 0 is shared by every token the script does not name; it leads to </s>.
  const dimOf = new Map(script.map(([from], k) => [id(from), k + 1]));
  const nextOfDim = new Map<number, number>([[0, id('</s>')], ...script.map(([from, to]): [number, number] => [dimOf.get(id(from))!, id(to)])]);
  const BIG = 20;
  return (tensor, i) => {
    const row = Math.floor(i / E);
    const dim = i % E;
    if (tensor === 'token_embd.weight') return dim === (dimOf.get(row) ?? 0) ? 1 : 0;
    if (tensor === 'output.weight') return nextOfDim.get(dim) === row ? BIG : 0;
    return 0;
  };
}

/** Writes the model to `path` and returns the vocabulary size. */
export function writeTinyGguf(path: string, options: TinyGgufOptions = {}): { vocabSize: number } {
  const E = options.embeddingLength ?? 64;
  const layers = options.blockCount ?? 2;
  const heads = options.headCount ?? 4;
  const ff = options.feedForwardLength ?? 128;
  const ctx = options.contextLength ?? 4096;
  const rand = random(options.seed ?? 1);
  const script = options.nextToken ? Object.entries(options.nextToken) : null;
  const vocab = vocabulary(script?.flat());
  const V = vocab.tokens.length;
  const weight = script ? scriptedWeights(script, vocab.tokens, E) : null;

  const meta: Array<[string, Meta]> = [
    ['general.architecture', { type: 'str', value: 'llama' }],
    ['general.name', { type: 'str', value: 'tiny random llama (test)' }],
    ['general.alignment', { type: 'u32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'u32', value: ctx }],
    ['llama.embedding_length', { type: 'u32', value: E }],
    ['llama.block_count', { type: 'u32', value: layers }],
    ['llama.feed_forward_length', { type: 'u32', value: ff }],
    ['llama.attention.head_count', { type: 'u32', value: heads }],
    ['llama.attention.head_count_kv', { type: 'u32', value: heads }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['llama.rope.dimension_count', { type: 'u32', value: E / heads }],
    ['tokenizer.ggml.model', { type: 'str', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'str[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
  ];

  // ggml order: dims[0] is the row length (the input side of a matrix).
  const tensors: Array<{ name: string; dims: number[]; norm?: boolean }> = [
    { name: 'token_embd.weight', dims: [E, V] },
    { name: 'output_norm.weight', dims: [E], norm: true },
    { name: 'output.weight', dims: [E, V] },
  ];
  for (let i = 0; i < layers; i++) {
    const b = `blk.${i}`;
    tensors.push(
      { name: `${b}.attn_norm.weight`, dims: [E], norm: true },
      { name: `${b}.attn_q.weight`, dims: [E, E] },
      { name: `${b}.attn_k.weight`, dims: [E, E] },
      { name: `${b}.attn_v.weight`, dims: [E, E] },
      { name: `${b}.attn_output.weight`, dims: [E, E] },
      { name: `${b}.ffn_norm.weight`, dims: [E], norm: true },
      { name: `${b}.ffn_gate.weight`, dims: [E, ff] },
      { name: `${b}.ffn_up.weight`, dims: [E, ff] },
      { name: `${b}.ffn_down.weight`, dims: [ff, E] },
    );
  }

  const out = new Bytes();
  out.raw(Buffer.from('GGUF', 'ascii'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(meta.length);
  for (const [key, m] of meta) {
    out.str(key);
    switch (m.type) {
      case 'u32':
        out.u32(T.UINT32);
        out.u32(m.value);
        break;
      case 'f32':
        out.u32(T.FLOAT32);
        out.f32(m.value);
        break;
      case 'str':
        out.u32(T.STRING);
        out.str(m.value);
        break;
      case 'str[]':
        out.u32(T.ARRAY);
        out.u32(T.STRING);
        out.u64(m.value.length);
        for (const s of m.value) out.str(s);
        break;
      case 'f32[]':
        out.u32(T.ARRAY);
        out.u32(T.FLOAT32);
        out.u64(m.value.length);
        for (const v of m.value) out.f32(v);
        break;
      case 'i32[]':
        out.u32(T.ARRAY);
        out.u32(T.INT32);
        out.u64(m.value.length);
        for (const v of m.value) out.i32(v);
        break;
    }
  }
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    const bytes = t.dims.reduce((a, b) => a * b, 1) * 4;
    offset += Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
  }
  out.padTo(ALIGNMENT);
  for (const t of tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    // Small weights keep the activations finite; norms are 1 as in a fresh model.
    const scale = 1 / Math.sqrt(t.dims[0] ?? 1);
    for (let i = 0; i < n; i++) {
      if (weight && !t.norm) {
        out.f32(weight(t.name, i));
        continue;
      }
      const silentRow = t.name === 'output.weight' && !printable(Math.floor(i / E));
      out.f32(t.norm ? 1 : silentRow ? 0 : (rand() * 2 - 1) * scale);
    }
    out.padTo(ALIGNMENT);
  }
  writeFileSync(path, out.toBuffer());
  return { vocabSize: V };
}
