/**
 * The real `voice-gateway serve` command, run from the TypeScript sources (bin/ runs the build in
 * dist/): its own settings, providers and composition. Start it with LOG_LEVEL=info so that
 * ./gateway-process.ts sees the ports it logs.
 */
import { main } from '../../src/cli/main.js';

await main(['serve', ...process.argv.slice(2)]);
