/**
 * Client tools from the shell, for `ask` and `talk`: `--tools tools.json` declares them and
 * `--tool-command CMD` runs each call. CMD runs through the shell with the call as one JSON object
 * on its stdin, `{"call_id": "...", "name": "...", "arguments": {...}}`; what it prints on stdout
 * is the result. A non-zero exit is a failed call (its stderr, or stdout, says why). A call the
 * gateway cancels (barge-in, timeout) kills the command.
 *
 * tools.json is a JSON array of tools, each either flat (as the Realtime API declares them) or
 * nested (as Chat Completions does):
 *   [{"name": "get_weather", "description": "...", "parameters": {"type": "object", ...}, "timeout_ms": 5000}]
 *   [{"type": "function", "function": {"name": "get_weather", "description": "...", "parameters": {...}}}]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type * as pb from '../gen/voice/v1/voice_pb.js';

/** A declaration as the generated code takes it. */
export type ToolDeclarationInit = Pick<pb.ToolDeclaration, 'name' | 'description' | 'parametersJson' | 'timeoutMs'>;

/** A call the gateway asked for, and how it ended. */
export interface ClientToolCall {
  callId: string;
  name: string;
  argumentsJson: string;
}
export interface ClientToolResult {
  output: string;
  isError: boolean;
}

/** Client tools: what to declare, and how to run a call. */
export interface ClientTools {
  declarations: ToolDeclarationInit[];
  run(call: ClientToolCall, signal: AbortSignal): Promise<ClientToolResult>;
}

const fn = z.object({ name: z.string(), description: z.string().default(''), parameters: z.record(z.string(), z.unknown()).optional(), timeout_ms: z.number().int().min(0).optional() });
const entry = z.union([z.object({ type: z.literal('function'), function: fn }).transform((t) => t.function), fn]);

/** The declarations in a tools.json text; throws saying what is wrong. */
export function parseToolsFile(text: string, file: string): ToolDeclarationInit[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = z.array(entry).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || 'the file'}: ${issue.message}; expected an array of {"name", "description", "parameters"} (or {"type": "function", "function": {...}})`);
  }
  return parsed.data.map((t) => ({ name: t.name, description: t.description, parametersJson: t.parameters ? JSON.stringify(t.parameters) : '', timeoutMs: t.timeout_ms ?? 0 }));
}

/** Most bytes read from a tool command's stdout or stderr (the gateway bounds results anyway). */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Runs each call through `command` (a shell command line). */
export function commandRunner(command: string): ClientTools['run'] {
  return (call, signal) =>
    new Promise((resolve) => {
      const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        if (outBytes >= MAX_OUTPUT_BYTES) return;
        outBytes += chunk.length;
        into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const kill = () => child.kill('SIGTERM');
      signal.addEventListener('abort', kill, { once: true });
      child.on('error', (error) => resolve({ output: `the tool command could not run: ${error.message}`, isError: true }));
      child.on('close', (code, killedBy) => {
        signal.removeEventListener('abort', kill);
        const stdout = Buffer.concat(out).toString('utf8').trim();
        const stderr = Buffer.concat(err).toString('utf8').trim();
        if (code === 0) return resolve({ output: stdout, isError: false });
        resolve({ output: stderr || stdout || `the tool command ended with ${killedBy ?? `exit code ${code}`}`, isError: true });
      });
      let args: unknown = call.argumentsJson;
      try {
        args = JSON.parse(call.argumentsJson);
      } catch {
        // handed over as the text the model wrote
      }
      child.stdin.on('error', () => undefined); // a command that does not read its stdin
      child.stdin.end(`${JSON.stringify({ call_id: call.callId, name: call.name, arguments: args })}\n`);
    });
}

/** `--tools FILE --tool-command CMD` as client tools; both or neither. */
export async function loadClientTools(file: string | undefined, command: string | undefined): Promise<ClientTools | undefined> {
  if (!file && !command) return undefined;
  if (!file || !command) throw new Error('--tools and --tool-command go together: the file declares the tools, the command runs them');
  return { declarations: parseToolsFile(await readFile(file, 'utf8'), file), run: commandRunner(command) };
}
