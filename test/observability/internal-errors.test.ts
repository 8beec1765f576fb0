/**
 * The process-level guard of escaped errors (observability/internal-errors.ts), in a child process
 * so that its handlers are the only ones: an error inside a session's scope goes to that session;
 * one outside every session is logged and counted, and only an uncaught exception calls onUnsafe
 * (the gateway drains and exits), while a rejection leaves the process serving.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

void describe('the process guard', { timeout: 60_000 }, () => {
  void it('lays session errors at their session, counts the rest, and calls onUnsafe only for an exception outside sessions', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/process-guard-child.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: Array<Record<string, unknown>> = [];
    let changed = () => undefined as void;
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
      changed();
    });
    const waitFor = async (match: (l: Record<string, unknown>) => boolean) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const found = lines.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`not seen; got ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => {
          changed = resolve;
          setTimeout(resolve, 100);
        });
      }
    };
    try {
      child.stdin.write('throw-in-session\n');
      assert.equal((await waitFor((l) => 'failedSession' in l)).message, 'thrown in a session');
      child.stdin.write('reject-outside\n');
      await waitFor((l) => (l.log as { err?: { message: string } } | undefined)?.err?.message === 'rejected outside any session');
      child.stdin.write('count\n');
      assert.deepEqual(await waitFor((l) => 'process' in l), { process: 1, session: 0 });
      assert.ok(!lines.some((l) => 'unsafe' in l), 'a rejection leaves the process serving');
      child.stdin.write('throw-outside\n');
      await waitFor((l) => 'unsafe' in l);
      child.stdin.write('count\n');
      await waitFor((l) => l.process === 2);
      const logged = lines.filter((l) => 'log' in l).map((l) => (l.log as { msg: string; err?: { message: string } }).err?.message);
      assert.deepEqual(logged.filter(Boolean), ['rejected outside any session', 'thrown outside any session']);
      assert.equal(child.exitCode, null, 'the guard itself does not exit: onUnsafe decides');
    } finally {
      child.kill();
    }
  });
});
