/** A `ws` message as one Buffer, whichever of its shapes (Buffer, ArrayBuffer, fragments) it came in. */
import type { RawData } from 'ws';

export function bufferOf(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}
