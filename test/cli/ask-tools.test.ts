/**
 * `voice-gateway ask --tools tools.json --tool-command CMD` (the built CLI): the tools are declared,
 * each call runs the command with the call as JSON on stdin, its stdout is the result, and --json
 * shows the calls of each turn. A command that fails is a failed call the model hears about.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { writeWav } from '../../src/audio/wav.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { ScriptedRequest } from '../support/scripted-openai-server.js';
import { startToolGateway, type ToolGateway } from '../support/tool-gateway.js';

const run = promisify(execFile);

function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') return `The tool said: ${last.content}`;
  return { toolCalls: [{ id: 'call_kettle', name: 'switch_kettle', arguments: '{"on":true}' }] };
}

let g: ToolGateway;
let dir: string;
before(async () => {
  g = await startToolGateway(model, { TURN_END_SILENCE_MS: '400' });
  dir = await mkdtemp(join(tmpdir(), 'ask-tools-'));
  await writeFile(join(dir, 'q.wav'), writeWav(concat(silence(300), tone(900), silence(300)), 16000));
  await writeFile(
    join(dir, 'tools.json'),
    JSON.stringify([{ type: 'function', function: { name: 'switch_kettle', description: 'Turns the kettle on or off', parameters: { type: 'object', properties: { on: { type: 'boolean' } }, required: ['on'] } } }]),
  );
});
after(() => g.stop());

async function ask(command: string) {
  const args = ['bin/voice-gateway.js', 'ask', '--in', join(dir, 'q.wav'), '--json', '--fast', '--server', g.gateway.grpcAddress, '--tools', join(dir, 'tools.json'), '--tool-command', command];
  const { stdout } = await run(process.execPath, args);
  return JSON.parse(stdout) as { turns: Array<{ response_text: string; tool_calls?: Array<Record<string, unknown>> }>; errors: unknown[] };
}

void describe('voice-gateway ask --tools --tool-command', () => {
  void it('runs the command with the call on stdin and gives the model its stdout', async () => {
    // The command echoes what it read, so the test sees exactly what the CLI passed it.
    const result = await ask(`node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const c=JSON.parse(s);process.stdout.write(c.name+':'+JSON.stringify(c.arguments)+':'+c.call_id)})"`);
    assert.deepEqual(result.errors, []);
    const turn = result.turns[0]!;
    assert.equal(turn.response_text, 'The tool said: switch_kettle:{"on":true}:call_kettle');
    assert.deepEqual(turn.tool_calls, [{ name: 'switch_kettle', arguments: '{"on":true}', output: 'switch_kettle:{"on":true}:call_kettle' }]);
  });

  void it('a command that fails is a failed call: its stderr goes to the model', async () => {
    const result = await ask(`node -e "process.stderr.write('the kettle is unplugged');process.exit(3)"`);
    const turn = result.turns[0]!;
    assert.equal(turn.response_text, 'The tool said: Error: the kettle is unplugged');
    assert.deepEqual(turn.tool_calls, [{ name: 'switch_kettle', arguments: '{"on":true}', output: 'the kettle is unplugged', is_error: true }]);
  });

  void it('--tools without --tool-command is refused with what to do', async () => {
    await assert.rejects(run(process.execPath, ['bin/voice-gateway.js', 'ask', '--in', join(dir, 'q.wav'), '--tools', join(dir, 'tools.json')]), (error: { stderr: string }) => {
      assert.match(error.stderr, /--tools and --tool-command go together/);
      return true;
    });
  });
});
