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
    const gateway = await startGateway({ config, guardProcess: true });
    // One plain line for people and scripts (tests wait for it), beside the JSON logs.
    process.stdout.write(`voice-gateway listening grpc=${gateway.grpcPort} http=${gateway.httpPort}\n`);
    // SIGTERM (Kubernetes, systemd) drains; SIGINT (Ctrl-C) stops now.
    const exit = (code: number) => () => process.exit(code);
    process.once('SIGTERM', () => {
      gateway.drain(config.DRAIN_GRACE_MS).then(exit(0), exit(1));
    });
    process.once('SIGINT', () => {
      gateway.close().then(exit(0), exit(1));
    });
  });

  const doctor = program
    .command('doctor')
    .description('Check every configured backend (Riva, NIM or another OpenAI-compatible LLM): prints what works and, for what does not, the fix')
    .option('--json', 'print the checks as JSON');
  // The same settings as serve (environment or flags), so the check sees what serve would use.
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, (typeof SETTINGS)[SettingName]]>) {
    doctor.addOption(new Option(`--${flagName(name)} <value>`, `${spec.help} (env ${name})`).hideHelp());
  }
  doctor.action(async (flags: Record<string, unknown>) => {
    const config = loadConfig(process.env, flags);
    const { runDoctor } = await import('./doctor.js');
    process.exitCode = await runDoctor(config, { json: flags.json === true });
  });

  program
    .command('new-key')
    .description('Make an API key: prints the key (give it to the client) and the hashed line for API_KEYS')
    .argument('<name>', 'who holds the key (letters, digits, . _ @ -)')
    .action(async (name: string) => {
      const { newApiKey } = await import('../auth/api-keys.js');
      if (!/^[\w.@-]{1,64}$/.test(name)) throw new Error(`key name "${name}" may hold only letters, digits and . _ @ - (at most 64)`);
      const { key, line } = newApiKey(name);
      process.stdout.write(`key (give to the client, shown once): ${key}\nAPI_KEYS entry (store this):       ${line}\n`);
    });

  program
    .command('ask')
    .description('Speak a WAV file to the gateway like a listener and print each turn')
    .requiredOption('--in <file.wav>', 'the question, a WAV file at any common rate')
    .option('--out <reply.wav>', 'write the reply audio as heard')
    .option('--json', 'print one JSON object {"turns":[...]}')
    .option('--server <host:port>', 'gateway address; several, comma separated, are tried in turn when the conversation resumes after a drop', '127.0.0.1:50051')
    .option('--fast', 'send audio as fast as possible instead of at real-time pace')
    .option('--language <bcp47>', 'language of the question')
    .option('--text <message...>', 'typed messages to send after the audio')
    .option('--timeout-s <seconds>', 'give up after this long', '120')
    .option('--tools <tools.json>', 'declare these tools (a JSON array of {name, description, parameters}); with --tool-command')
    .option('--tool-command <cmd>', 'run each tool call through this shell command: the call as JSON on stdin, the result on stdout')
    .action(runAsk);

  program
    .command('talk')
    .description('Talk to the gateway: microphone in, speaker out (sox rec/play), live transcript and reply on screen')
    .option('--server <host:port>', 'gateway address; several, comma separated, are tried in turn when the conversation resumes after a drop', '127.0.0.1:50051')
    .option('--full-duplex', 'keep the microphone open while the agent speaks (headsets: lets you interrupt by voice)')
    .option('--mute-tail-ms <ms>', 'half duplex: the microphone stays muted this long after the reply audio ends (room echo, device buffers)', '400')
    .option('--language <bcp47>', 'language you speak (the reply voice follows it)')
    .option('--voice <name>', 'reply voice')
    .option('--sample-rate <hz>', 'microphone and speaker sample rate', '16000')
    .option('--tools <tools.json>', 'declare these tools (a JSON array of {name, description, parameters}); with --tool-command')
    .option('--tool-command <cmd>', 'run each tool call through this shell command: the call as JSON on stdin, the result on stdout')
    .action(async (flags: import('./talk.js').TalkFlags) => (await import('./talk.js')).runTalk(flags));

  program
    .command('bench')
    .description('N callers speak to a gateway at once; prints voice-to-voice latency, overhead, barge-in stop time, errors, CPU and memory (p50/p95/p99)')
    .option('--server <host:port>', 'gateway to load (its settings come from its own environment; with a phone --transport, its HTTP port)', '127.0.0.1:50051')
    .option('--transport <name>', 'what the callers speak: grpc (voice.v1), or a phone carrier\'s protocol over the HTTP port: twilio (Media Streams) or asterisk (chan_websocket), 8 kHz mu-law, or jambonz (listen), 8 kHz L16', 'grpc')
    .option('--spawn-server', 'start a gateway with the simulated providers and --profile instead (settings from this environment)')
    .option('--server-log <file>', 'with --spawn-server: append the gateway\'s logs here')
    .option('--metrics-url <url>', "the gateway's GET /metrics, read for its CPU and memory (default with --spawn-server: its own)")
    .option('--profile <name|file.json>', 'simulated-provider profile the gateway runs (SIM_PROFILE): its latencies are subtracted to give the overhead', 'nvidia-blueprint')
    .option('--sessions <n>', 'concurrent callers', '1')
    .option('--duration-s <s>', 'measured time, after all callers joined (default 30)')
    .option('--turns <n>', 'utterances per caller instead of a duration')
    .option('--in <file.wav>', 'what each caller says, one utterance (default: a built-in 1.5 s voiced tone)')
    .option('--chunk-ms <ms>', 'microphone chunk length', '20')
    .option('--pause-ms <ms>', 'silence after a reply before speaking again', '500')
    .option('--barge-in', 'speak again during each reply, interrupting it')
    .option('--barge-in-after-ms <ms>', 'with --barge-in: start speaking this long after the reply\'s first audio', '1000')
    .option('--tool-latency-ms <ms>', 'each caller declares a tool that answers after this long, and the simulated LLM calls it once a turn before replying (one tool round trip per turn)')
    .option('--spread-s <s>', 'callers join spread over this long (default: one turn, from the profile)')
    .option('--reply-timeout-s <s>', 'a turn with no reply audio this long after speech is an error', '15')
    .option('--ramp', 'raise the sessions (x2, then bisect) until p99 overhead passes --budget-ms; report the last level within it')
    .option('--budget-ms <ms>', 'p99 overhead budget for --ramp', '100')
    .option('--ramp-start <n>', 'first level of --ramp', '1')
    .option('--ramp-max <n>', 'last level of --ramp', '1024')
    .option('--ramp-refine <n>', 'bisection levels after the first level over budget', '2')
    .option('--json <out.json>', 'also write the results as JSON')
    .option('--scenarios <suite>', 'run a scenario suite instead (interruptions: randomized barge-ins, backchannels, noises, disconnects, with invariant checks; exit 1 on a violation)')
    .option('--count <n>', 'with --scenarios: how many scenarios', '100')
    .option('--concurrency <n>', 'with --scenarios: scenarios at once', '16')
    .option('--seed <n>', 'with --scenarios: seed of the first scenario (scenario i uses seed + i)', '1')
    .option('--kinds <a,b>', 'with --scenarios: only these kinds')
    .option('--resume', 'measure resume instead: --sessions callers on two spawned gateways sharing --redis-url, all dropped at once, then resumed (p50/p99 from disconnect to the first event)')
    .option('--redis-url <url>', 'with --resume: the Redis the two gateways share')
    .action(async (flags: import('./bench.js').BenchFlags) => (await import('./bench.js')).runBench(flags));

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
