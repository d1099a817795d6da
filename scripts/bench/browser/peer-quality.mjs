// P9 of scripts/bench.sh: one UpscalerJS ×4 model's results on a set of LR pictures, in the
// same headless Chromium as P3, for `srkd eval --results` to score.
//
//   node peer-quality.mjs --model esrgan-thick --backend webgl --lr LR_DIR --out DIR
//
// LR_DIR holds MATLAB-bicubic ×¼ inputs (`srkd eval --save-lr`). Each picture is upscaled once
// and saved as DIR/STEM_x4.png; DIR/peer.json records the model, TF.js, backend, browser and
// the time of each picture (pixels in → pixels read back; quality is the point here, P3 times).
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, openPage, serveDist } from '../../../web/tests/harness.mjs';
import { MODELS, buildPeerSite, version } from './peer-site.mjs';

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((a) => a.trim().split(/\s+/)).map(([k, v]) => [k, v]));
for (const k of ['model', 'backend', 'lr', 'out']) {
  if (!args[k]) {
    console.error(`usage: node peer-quality.mjs --model ${Object.keys(MODELS).join('|')} --backend webgl|webgpu|cpu --lr LR_DIR --out DIR`);
    process.exit(2);
  }
}
const stems = fs.readdirSync(args.lr).filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4)).sort();
if (stems.length === 0) throw new Error(`${args.lr}: no .png pictures`);
fs.mkdirSync(args.out, { recursive: true });
const site = fs.mkdtempSync(path.join(args.out, '.site-'));
const peer = buildPeerSite(site, args.model, args.lr, stems);
const server = await serveDist(site);
const browser = await launchChromium();
const result = {
  chromium: browser.version(),
  upscaler: `upscaler@${version('upscaler')}`,
  model: peer.npm,
  tfjs: version('@tensorflow/tfjs'),
  backend: args.backend,
  ms: {},
};
try {
  const page = await openPage(browser, `${server.base}/`);
  await page.waitForFunction(() => window.bench);
  const used = await page.evaluate(([b, m]) => window.bench.init(b, m), [args.backend, peer.global]);
  if (used !== args.backend) throw new Error(`TF.js runs on ${used}, not ${args.backend}`);
  for (const s of stems) {
    console.error(`${args.model} (${args.backend}): ${s}`);
    const r = await page.evaluate((url) => window.bench.upscale(url, true), `lr/${s}.png`);
    // Written beside, then renamed: a killed run never leaves a half-written result to score.
    const file = path.join(args.out, `${s}_x4.png`);
    fs.writeFileSync(`${file}.part`, Buffer.from(r.png.split(',')[1], 'base64'));
    fs.renameSync(`${file}.part`, file);
    result.ms[s] = r.ms;
  }
} finally {
  await browser.close();
  server.close();
  fs.rmSync(site, { recursive: true, force: true });
}
fs.writeFileSync(path.join(args.out, 'peer.json'), JSON.stringify(result, null, 1));
