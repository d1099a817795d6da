// The UpscalerJS peer's static site for P3 (p3.mjs) and P9 (peer-quality.mjs): upscalerjs.html,
// the npm files it loads (TF.js, its WebGPU and WebAssembly backends, UpscalerJS), one ×4 model and the LR
// pictures, all served from one folder — no CDN.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const modules = path.join(here, 'node_modules');

/** The UpscalerJS models these benchmarks know: npm package → the global its UMD file defines. */
export const MODELS = { 'esrgan-slim': 'ESRGANSlim4x', 'esrgan-thick': 'ESRGANThick4x' };

/** `pkg`'s version from its package.json under node_modules. */
export const version = (pkg) => JSON.parse(fs.readFileSync(path.join(modules, pkg, 'package.json'), 'utf8')).version;

/** Build the site in `site` (replaced) for `model` (a key of MODELS) with `lrDir`'s `stems`
    (STEM.png) under lr/; returns what the peer page needs to know. */
export function buildPeerSite(site, model, lrDir, stems) {
  if (!MODELS[model]) throw new Error(`unknown UpscalerJS model ${model} (known: ${Object.keys(MODELS).join(', ')})`);
  fs.rmSync(site, { recursive: true, force: true });
  fs.mkdirSync(path.join(site, 'models/x4'), { recursive: true });
  fs.mkdirSync(path.join(site, 'lr'));
  const copy = (from, to) => fs.copyFileSync(from, path.join(site, to));
  copy(path.join(here, 'upscalerjs.html'), 'index.html');
  copy(path.join(modules, '@tensorflow/tfjs/dist/tf.min.js'), 'tf.min.js');
  copy(path.join(modules, '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js'), 'tf-backend-webgpu.min.js');
  // The WebAssembly backend (XNNPACK, SIMD; threads only where the page is cross-origin isolated).
  const wasm = path.join(modules, '@tensorflow/tfjs-backend-wasm/dist');
  for (const f of ['tf-backend-wasm.min.js', 'tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    copy(path.join(wasm, f), f);
  }
  copy(path.join(modules, 'upscaler/dist/browser/umd/upscaler.min.js'), 'upscaler.min.js');
  const pkg = path.join(modules, '@upscalerjs', model);
  copy(path.join(pkg, `dist/umd/models/${model}/src/x4/index.min.js`), 'model-x4.min.js');
  for (const f of fs.readdirSync(path.join(pkg, 'models/x4'))) copy(path.join(pkg, 'models/x4', f), `models/x4/${f}`);
  for (const s of stems) copy(path.join(lrDir, `${s}.png`), `lr/${s}.png`);
  return { global: MODELS[model], npm: `@upscalerjs/${model}@${version(`@upscalerjs/${model}`)}` };
}
