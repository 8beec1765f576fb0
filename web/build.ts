/**
 * Bundles the web client for browsers: web/src (TypeScript, with the voice.v1 code generated
 * into src/gen, the same the gateway uses) becomes app.js and the two audio worklets; the page,
 * its styles and icon are copied beside them. `npm run build` runs this into dist/web, which the
 * gateway serves at `/`.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const WEB = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT_DIR = path.join(WEB, '..', 'dist', 'web');
const STATIC_FILES = ['index.html', 'styles.css', 'favicon.svg'];

export async function buildWebClient(outDir = DEFAULT_OUT_DIR, { minify = true } = {}): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: {
      app: path.join(WEB, 'src/main.ts'),
      'capture-worklet': path.join(WEB, 'src/worklets/capture-worklet.ts'),
      'playback-worklet': path.join(WEB, 'src/worklets/playback-worklet.ts'),
    },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    // AudioWorklet and the other APIs used here are in every browser since these versions.
    target: ['chrome100', 'firefox110', 'safari16'],
    minify,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await Promise.all(STATIC_FILES.map((name) => copyFile(path.join(WEB, name), path.join(outDir, name))));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2] ?? DEFAULT_OUT_DIR;
  await buildWebClient(outDir);
  console.log(`web client built into ${path.relative(process.cwd(), outDir) || '.'}`);
}
