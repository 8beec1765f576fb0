/**
 * The Realtime session's function tools (./session-config.ts): their declarations and tool_choice
 * as `session.update` gives them, checked in shape and size, and rendered back flat.
 */
import { z } from 'zod';
import type { SessionSettings, ToolChoice, ToolDeclaration } from '../../core/events.js';

const TEXT_MAX_CHARS = 4096;

const functionTool = z.looseObject({
  type: z.literal('function', { error: 'only "function" tools can be declared by a client: MCP servers are configured on the gateway (MCP_SERVERS)' }),
  name: z.string().max(64),
  description: z.string().max(TEXT_MAX_CHARS).optional(),
  parameters: z.looseObject({}).optional(),
});
/** The core checks names, schemas and TOOL_DECLARATIONS_MAX_BYTES; 128 is OpenAI's limit too. */
export const tools = z.array(functionTool).max(128, 'at most 128 tools');
export const toolChoice = z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.literal('function'), name: z.string().min(1).max(64) })], {
  error: 'tool_choice must be "auto", "none", "required" or {"type": "function", "name": "..."}',
});

export function declaration(tool: z.output<typeof functionTool>): ToolDeclaration {
  return { name: tool.name, description: tool.description ?? '', parameters: tool.parameters ?? { type: 'object', properties: {} } };
}

/** The session's client tools as Realtime declares them (flat), and its tool choice. */
export function toolsOf(settings: SessionSettings): { tools: unknown[]; tool_choice: unknown } {
  const choice: ToolChoice = settings.toolChoice;
  return {
    tools: settings.tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters })),
    tool_choice: typeof choice === 'string' ? choice : { type: 'function', name: choice.name },
  };
}
