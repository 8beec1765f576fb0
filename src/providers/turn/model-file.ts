/**
 * Finds the Smart Turn model file the way the local LLM finds its GGUF (llm/model-cache.ts, the
 * same code): the user's own file (`TURN_MODEL_PATH`), or the default model downloaded once into
 * `TURN_MODEL_CACHE_DIR` with a progress bar and its sha256 checked (`TURN_MODEL_SHA256`).
 */
import { resolveModelFile, type ModelFormat, type ModelSourceSettings } from '../llm/model-cache.js';

/**
 * Pipecat's Smart Turn v3.2, int8 CPU build (8,679,182 bytes), at the Hugging Face commit of the
 * v3.2 release, so the file behind the URL cannot change under its checksum. The sha256 is the
 * one several independent projects pin for that commit's file (Pipecat publishes none).
 */
export const DEFAULT_TURN_MODEL_URL = 'https://huggingface.co/pipecat-ai/smart-turn-v3/resolve/f766f81d3cfdf7737ac64aad813d91bbfd56bf93/smart-turn-v3.2-cpu.onnx';
export const DEFAULT_TURN_MODEL_SHA256 = '2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f';

/** An ONNX model is a protobuf ModelProto whose first field is ir_version (field 1, a varint: tag byte 0x08). */
export const SMART_TURN_MODEL_FILE: ModelFormat = {
  purpose: 'Smart Turn model (TURN_END_SOURCE=smart_turn)',
  name: 'ONNX',
  extension: '.onnx',
  headBytes: 1,
  startsRight: (head) => head[0] === 0x08,
  expectedStart: 'the byte 08 (the ir_version field of an ONNX model)',
  settings: { path: 'TURN_MODEL_PATH', url: 'TURN_MODEL_URL', sha256: 'TURN_MODEL_SHA256', cacheDir: 'TURN_MODEL_CACHE_DIR', stallMs: 'LLM_DOWNLOAD_STALL_MS' },
  pointers: [
    'Give the gateway the Smart Turn model, then start it again, with either:',
    '  the ONNX file on this machine:   TURN_MODEL_PATH=/path/smart-turn-v3.2-cpu.onnx',
    '    (from https://huggingface.co/pipecat-ai/smart-turn-v3, file smart-turn-v3.2-cpu.onnx)',
    '  or another end of turn:          TURN_END_SOURCE=vad (silence) or asr (the recognizer)',
  ].join('\n'),
};

/** The Smart Turn ONNX file: TURN_MODEL_PATH, the cached download, or a fresh one. */
export function resolveTurnModelFile(s: ModelSourceSettings): Promise<string> {
  return resolveModelFile(s, SMART_TURN_MODEL_FILE);
}
