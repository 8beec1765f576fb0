/**
 * The test MCP server as a process of its own, for tests that kill it mid-call: prints its URL
 * on the first line, then `called <tool>` for each call as it starts.
 */
import { startTestMcpServer } from './mcp-test-server.js';

const server = await startTestMcpServer();
process.stdout.write(`${server.url}\n`);
void (async () => {
  for (;;) {
    await server.nextHeld();
    process.stdout.write('called hold\n');
  }
})();
