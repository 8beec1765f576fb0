/** `voice-gateway <command>`: thin commands over the library. */
import { Command, Option } from 'commander';
import { ConfigError, flagName, loadConfig } from '../config/load.js';
import { SETTINGS, type SettingName } from '../config/schema.js';
import { runAsk } from './ask.js';

const EXIT_BAD_SETTING = 2;

export async function main(argv: string[]): Promise<void> {
  const program = new Command('voice-gateway')
    .description('Self-hosted voice-to-voice AI gateway: streaming ASR -> LLM -> TTS with server-side turn-taking')
    .showHelpAfterError();

  const serve = program
    .command('serve')
    .description('Run the gateway. Every setting is an environment variable; a flag overrides it.');
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, (typeof SETTINGS)[SettingName]]>) {
    const shownDefault = 'secret' in spec && spec.secret ? '' : ` [default: ${JSON.stringify(spec.default)}]`;
    serve.addOption(new Option(`--${flagName(name)} <value>`, `${spec.help} (env ${name})${shownDefault}`));
  }
  serve.action(async (flags: Record<string, unknown>) => {
    const config = loadConfig(process.env, flags);
    const { startGateway } = await import('../server.js');
    const gateway = await startGateway({ config });
    const stop = () => void gateway.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  program
    .command('ask')
    .description('Speak a WAV file to the gateway like a listener and print each turn')
    .requiredOption('--in <file.wav>', 'the question, a WAV file at any common rate')
    .option('--out <reply.wav>', 'write the reply audio as heard')
    .option('--json', 'print one JSON object {"turns":[...]}')
    .option('--server <host:port>', 'gateway address', '127.0.0.1:50051')
    .option('--fast', 'send audio as fast as possible instead of at real-time pace')
    .option('--language <bcp47>', 'language of the question')
    .option('--text <message...>', 'typed messages to send after the audio')
    .option('--timeout-s <seconds>', 'give up after this long', '120')
    .action(runAsk);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`voice-gateway: ${error.message}`);
      process.exit(EXIT_BAD_SETTING);
    }
    console.error(`voice-gateway: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
