/**
 * Runs the CLI with this process's arguments. Child processes that must run the same build as
 * their parent start this file (`bench --spawn-server` starts `entry serve`): it is entry.js in
 * dist/ and entry.ts under tsx, where bin/voice-gateway.js would always load dist/.
 */
import { main } from './main.js';

await main(process.argv.slice(2));
