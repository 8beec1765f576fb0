/**
 * An MCP tool result as the text the model reads: text parts as they are, the structured result
 * as JSON when there is no text, and a short note for parts a language model cannot read (images,
 * audio) so it knows they were there.
 */
type Part = { type: string; text?: string; mimeType?: string; uri?: string; name?: string; resource?: { uri?: string; text?: string; mimeType?: string } };

export function resultText(result: { content?: unknown; structuredContent?: unknown; toolResult?: unknown }): string {
  const parts = Array.isArray(result.content) ? (result.content as Part[]) : [];
  const texts = parts.map(partText).filter((t) => t !== '');
  if (texts.length > 0) return texts.join('\n');
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  // Servers of protocol version 2024-10-07 answered with `toolResult`.
  if (result.toolResult !== undefined) return typeof result.toolResult === 'string' ? result.toolResult : JSON.stringify(result.toolResult);
  return '';
}

function partText(part: Part): string {
  switch (part.type) {
    case 'text':
      return part.text ?? '';
    case 'image':
    case 'audio':
      return `[${part.type} ${part.mimeType ?? ''}]`.replace(' ]', ']');
    case 'resource_link':
      return `[link ${part.name ?? ''} ${part.uri ?? ''}]`.replace(/\s+/g, ' ').replace(' ]', ']');
    case 'resource':
      return part.resource?.text ?? `[resource ${part.resource?.uri ?? ''}]`;
    default:
      return '';
  }
}
