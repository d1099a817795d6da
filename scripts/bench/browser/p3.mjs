// P3 of scripts/bench.sh: the srkd page vs UpscalerJS (esrgan-slim ×4 on TF.js WebGPU, WebGL and
// WebAssembly) in the same headless Chromium (WebGPU on SwiftShader), on the same pictures.
//
//   node p3.mjs --dist web/dist --hr data/eval --lr LR_DIR --rounds N --out DIR [--model ID]
//
// The srkd page runs its default model unless --model names another, on two paths: its default
// (no ?backend=: on SwiftShader, a software adapter, that is the CPU with the WebAssembly SIMD
// kernels) and forced WebGPU (?backend=webgpu). Which backend and kernels the default took is
// recorded (p3.json `paths`).
//
// LR_DIR holds the MATLAB-bicubic ×¼ inputs (`srkd eval --save-lr`); the srkd page evaluates
// the HR pictures itself (same degradation, PSNR/SSIM shown), UpscalerJS is given the LR ones
// and its ×4 results are saved as DIR/upscalerjs-BACKEND/STEM_x4.png for `srkd eval --results`.
//
// Time to first result: a fresh browser per run (no HTTP, code or shader cache), navigation →
// the first ×4 pixels of the Set5 butterfly (its 64×64 ×¼ input, 256×256 out) read back, on
// the page's own clock; rounds alternate srkd and the peers. Steady state: in one page per
// contender, every picture once to warm up, then `rounds` passes; the time from pixels in to
// pixels read back (srkd: the page's generator time; UpscalerJS: execute() + data()); the
// instances the page ran each timed picture on are recorded (p3.json `workers`).
// Writes DIR/p3.json.
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, openPage, serveDist } from '../../../web/tests/harness.mjs';
import { buildPeerSite, version } from './peer-site.mjs';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((a) => a.trim().split(/\s+/)).map(([k, v]) => [k, v]));
for (const k of ['dist', 'hr', 'lr', 'rounds', 'out']) {
  if (!args[k]) {
    console.error('usage: node p3.mjs --dist DIST --hr HR_DIR --lr LR_DIR --rounds N --out DIR [--model ID]');
    process.exit(2);
  }
}
const rounds = Number(args.rounds);
const modelQuery = args.model ? `&model=${args.model}` : '';
const stems = fs.readdirSync(args.lr).filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4)).sort();
const hrFiles = Object.fromEntries(fs.readdirSync(args.hr).map((f) => [f.replace(/\.[^.]+$/, ''), path.join(args.hr, f)]));
// `wasm-threads`: TF.js's WebAssembly backend in a cross-origin-isolated page (COOP/COEP), where
// it may run XNNPACK on threads (how many: p3.json `peer_threads`); UpscalerJS's own pages are
// not isolated, so `wasm` is one thread.
const peerBackends = ['webgpu', 'webgl', 'wasm', 'wasm-threads'];
const tfjsBackend = (b) => (b === 'wasm-threads' ? 'wasm' : b);

// The peer's site: its page, the npm files it loads, the model, the pictures.
if (!stems.includes('butterfly')) throw new Error(`${args.lr}: butterfly.png (the first-result picture) is missing`);
const site = path.join(args.out, 'upscalerjs-site');
const peerModel = buildPeerSite(site, 'esrgan-slim', args.lr, stems);

const srkdServer = await serveDist(args.dist);
const peerServer = await serveDist(site);
const isolatedPeerServer = await serveDist(site, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** srkd: wait until `#result` reports a run newer than `after` (by its ready-at time). */
async function srkdResult(page, after) {
  await page.waitForFunction((after) => {
    const r = document.querySelector('#result')?.dataset;
    return r && (r.status === 'error' || (r.status === 'done' && r.readyAt !== after));
  }, after, { timeout: 900_000, polling: 100 });
  const r = await page.$eval('#result', (e) => ({ ...e.dataset }));
  if (r.status !== 'done') throw new Error(`srkd page: ${r.error}`);
  return r;
}

// The default path runs its later pictures on the CPU's tile workers (one per core, web/src/
// pipeline/pool.rs); `?threads=1` is the page's own instance alone. Its first picture runs on
// that instance either way, so ?threads=1 has no time-to-first-result run of its own.
const srkdPaths = { 'srkd-default': '', 'srkd-1-thread': '&threads=1', 'srkd-webgpu': '&backend=webgpu' };
const firstResultPaths = ['srkd-default', 'srkd-webgpu'];

/** The backend and kernels a run took; a path must take the same ones every time. */
function checkPath(key, r) {
  const took = { build: r.build, backend: r.backend, kernels: r.kernels };
  if (key === 'srkd-webgpu' && r.backend !== 'webgpu') throw new Error(`srkd page ran on ${r.backend}, not WebGPU`);
  const seen = result.paths[key];
  if (seen && (seen.build !== took.build || seen.backend !== took.backend || seen.kernels !== took.kernels)) {
    throw new Error(`${key} ran on ${JSON.stringify(took)} after ${JSON.stringify(seen)}`);
  }
  result.paths[key] = took;
}

/** A fresh browser after a second's pause, so the last one's exit never overlaps a timed start. */
async function freshBrowser() {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return launchChromium();
}

async function coldSrkd(key) {
  const browser = await freshBrowser();
  try {
    const page = await openPage(browser, `${srkdServer.base}/?demo=1&mode=evaluate${modelQuery}${srkdPaths[key]}`);
    const r = await srkdResult(page, undefined);
    checkPath(key, r);
    result.model = r.model;
    return Number(r.readyAt);
  } finally {
    await browser.close();
  }
}

async function peerPage(browser, backend) {
  const server = backend === 'wasm-threads' ? isolatedPeerServer : peerServer;
  const page = await openPage(browser, `${server.base}/`);
  await page.waitForFunction(() => window.bench);
  const used = await page.evaluate(([b, m]) => window.bench.init(b, m), [tfjsBackend(backend), peerModel.global]);
  if (used !== tfjsBackend(backend)) throw new Error(`TF.js runs on ${used}, not ${tfjsBackend(backend)}`);
  const { isolated, threads } = await page.evaluate(() => window.bench.threads());
  if ((backend === 'wasm-threads') !== isolated) throw new Error(`TF.js ${backend}: the page is ${isolated ? '' : 'not '}cross-origin isolated`);
  if (backend.startsWith('wasm')) result.peer_threads[backend] = threads;
  return page;
}

async function coldPeer(backend) {
  const browser = await freshBrowser();
  try {
    const page = await peerPage(browser, backend);
    const r = await page.evaluate(() => window.bench.upscale('lr/butterfly.png', false));
    return r.readyAt;
  } finally {
    await browser.close();
  }
}

const result = {
  chromium: null,
  model: args.model ?? null,
  rounds,
  images: stems,
  upscalerjs: { upscaler: version('upscaler'), model: peerModel.npm, tfjs: version('@tensorflow/tfjs') },
  paths: {},
  workers: {},
  peer_threads: {},
  first_result_ms: { ...Object.fromEntries(firstResultPaths.map((k) => [k, []])), ...Object.fromEntries(peerBackends.map((b) => [`upscalerjs-${b}`, []])) },
  steady_ms: {},
  srkd_quality: {},
};

for (let r = 1; r <= rounds; r++) {
  console.error(`P3 time to first result, round ${r}/${rounds}`);
  for (const k of firstResultPaths) result.first_result_ms[k].push(await coldSrkd(k));
  for (const b of peerBackends) result.first_result_ms[`upscalerjs-${b}`].push(await coldPeer(b));
}

const browser = await launchChromium();
result.chromium = browser.version();

// srkd: evaluate mode, so the page degrades each HR picture like `srkd eval` and scores it.
for (const [key, query] of Object.entries(srkdPaths)) {
  console.error(`P3 steady state: ${key}`);
  const page = await openPage(browser, `${srkdServer.base}/?mode=evaluate${modelQuery}${query}`);
  await page.waitForFunction(() => document.querySelector('#result')?.dataset.status === 'idle', null, { timeout: 300_000 });
  let last;
  const times = Object.fromEntries(stems.map((s) => [s, []]));
  const quality = {};
  for (let pass = 0; pass <= rounds; pass++) {
    for (const s of stems) {
      await page.setInputFiles('#file', hrFiles[s]);
      const r = await srkdResult(page, last);
      last = r.readyAt;
      checkPath(key, r);
      if (r.model !== result.model) throw new Error(`srkd page ran ${r.model}, not ${result.model}`);
      if (pass > 0) {
        times[s].push(Number(r.ms));
        // Every timed picture on the same number of instances (the workers start during the
        // warm-up pass).
        const seen = result.workers[key] ??= r.workers;
        if (seen !== r.workers) throw new Error(`${key}: ${s} ran on ${r.workers} instances after ${seen}`);
      }
      quality[s] = { psnr: Number(r.psnr), ssim: Number(r.ssim) };
    }
  }
  result.steady_ms[key] = times;
  result.srkd_quality[key] = quality;
  await page.close();
}

for (const b of peerBackends) {
  console.error(`P3 steady state: UpscalerJS on ${b}`);
  const page = await peerPage(browser, b);
  const times = Object.fromEntries(stems.map((s) => [s, []]));
  const saved = path.join(args.out, `upscalerjs-${b}`);
  fs.mkdirSync(saved, { recursive: true });
  for (let pass = 0; pass <= rounds; pass++) {
    for (const s of stems) {
      const r = await page.evaluate(([url, keep]) => window.bench.upscale(url, keep), [`lr/${s}.png`, pass === 0]);
      if (pass > 0) times[s].push(r.ms);
      if (r.png) fs.writeFileSync(path.join(saved, `${s}_x4.png`), Buffer.from(r.png.split(',')[1], 'base64'));
    }
  }
  result.steady_ms[`upscalerjs-${b}`] = times;
  await page.close();
}
await browser.close();
srkdServer.close();
peerServer.close();
isolatedPeerServer.close();

fs.writeFileSync(path.join(args.out, 'p3.json'), JSON.stringify(result, null, 1));
for (const [who, xs] of Object.entries(result.first_result_ms)) console.error(`  first result ${who}: ${(median(xs) / 1000).toFixed(2)} s`);
for (const [who, per] of Object.entries(result.steady_ms)) {
  console.error(`  steady ${who}: ${(Object.values(per).map(median).reduce((a, b) => a + b, 0) / 1000).toFixed(2)} s for ${stems.length} pictures`);
}
