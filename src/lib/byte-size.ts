/**
 * The bytes a value holds, counted the way a bound on memory needs them counted: strings by their
 * UTF-8 length, byte arrays by their length, numbers and the like as 8 bytes, plus a small
 * overhead per object. A queue that counted text events as a fixed size let a client that does not
 * read make the process hold gigabytes of echoed text; this counts what is really there.
 *
 * Walks plain objects and arrays (the shapes of events), at most `MAX_DEPTH` deep: events are the
 * gateway's own objects, shallow by construction, and a deeper value is counted as that deep.
 */
const OBJECT_OVERHEAD_BYTES = 16;
const SCALAR_BYTES = 8;
const MAX_DEPTH = 32;

export function byteSizeOf(value: unknown, depth = 0): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value === null || typeof value !== 'object') return SCALAR_BYTES;
  if (ArrayBuffer.isView(value)) return value.byteLength + OBJECT_OVERHEAD_BYTES;
  if (value instanceof ArrayBuffer) return value.byteLength + OBJECT_OVERHEAD_BYTES;
  if (depth >= MAX_DEPTH) return OBJECT_OVERHEAD_BYTES;
  let bytes = OBJECT_OVERHEAD_BYTES;
  if (Array.isArray(value)) {
    for (const item of value) bytes += byteSizeOf(item, depth + 1);
    return bytes;
  }
  for (const [key, item] of Object.entries(value)) bytes += key.length + byteSizeOf(item, depth + 1);
  return bytes;
}
