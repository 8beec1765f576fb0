/**
 * Starts a worker thread from a module that sits next to the caller, both when running from the
 * TypeScript sources under tsx (tests, `node --import tsx`) and when compiled to dist/.
 *
 * Compiled, the caller is `.js` and so is its sibling in dist/: the worker runs that file directly.
 * Under tsx, the caller is a `.ts` file. Node 20 does not apply loader hooks given through a
 * worker's `execArgv` (`--import tsx`) to the worker's entry module (nodejs/node#47747), so the
 * worker starts from a tiny eval'd bootstrap that registers tsx's ESM hooks in the worker thread and
 * then imports the sibling `.ts` file.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function isTypeScriptSource(callerUrl: string): boolean {
  return new URL(callerUrl).pathname.endsWith('.ts');
}

export function spawnSiblingWorker(callerUrl: string, baseName: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!isTypeScriptSource(callerUrl)) {
    return new Worker(new URL(`./${baseName}.js`, callerUrl), options);
  }
  const entry = new URL(`./${baseName}.ts`, callerUrl).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
