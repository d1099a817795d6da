// Browser tests of the built web app (web/dist) in headless Debian Chromium, WebGPU on
// SwiftShader. Run by scripts/test-web.sh, which first builds the app and computes the CLI's
// figures for the same image and model:
//
//   node web/tests/browser.mjs DIST MODEL_ID CLI_EVAL_JSON ARTIFACT_DIR
//
// Checks: the ?demo=1 evaluate run reaches `done` on WebGPU with PSNR/SSIM equal to
// `srkd eval` (0.01 dB / 0.0005); a corrupt upload shows an error and the page keeps working;
// the CPU fallback (?backend=cpu) gives the same numbers. Saves screenshots as artifacts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { check, finish, launchChromium, openPage as open, serveDist } from './harness.mjs';

const [distArg, model, cliJson, artifacts] = process.argv.slice(2);
if (!artifacts) {
  console.error('usage: node browser.mjs DIST MODEL_ID CLI_EVAL_JSON ARTIFACT_DIR');
  process.exit(2);
}
fs.mkdirSync(artifacts, { recursive: true });
const cli = JSON.parse(fs.readFileSync(cliJson, 'utf8')).images[0];
const server = await serveDist(distArg ?? '.');
const browser = await launchChromium();
const openPage = (query) => open(browser, `${server.base}/${query}`);

async function finished(page, timeout = 480_000) {
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.querySelector('#result')?.dataset.status),
    null, { timeout, polling: 250 });
  return page.$eval('#result', (e) => ({ ...e.dataset }));
}

function assertMatchesCli(result) {
  assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
  assert.equal(result.model, model);
  const near = (got, want, tol, what) =>
    assert.ok(Math.abs(Number(got) - want) <= tol, `${what}: page ${got} vs srkd eval ${want} (tolerance ${tol})`);
  near(result.psnr, cli.model.psnr, 0.01, 'model PSNR-Y');
  near(result.ssim, cli.model.ssim, 0.0005, 'model SSIM-Y');
  near(result.psnrBicubic, cli.bicubic.psnr, 0.01, 'bicubic PSNR-Y');
  near(result.ssimBicubic, cli.bicubic.ssim, 0.0005, 'bicubic SSIM-Y');
  assert.ok(Number(result.ms) > 0, 'timing shown');
}

let page;
await check('demo on WebGPU matches srkd eval', async () => {
  page = await openPage(`?demo=1&mode=evaluate&model=${model}`);
  const result = await finished(page);
  await page.screenshot({ path: path.join(artifacts, 'web-demo-webgpu.png'), fullPage: true });
  assert.equal(result.backend, 'webgpu', 'WebGPU was not used');
  assertMatchesCli(result);
  console.log(`  PSNR-Y ${result.psnr} SSIM-Y ${result.ssim} in ${result.ms} ms on ${result.backend}`);
});

await check('corrupt upload shows an error and the page keeps working', async () => {
  page ??= await openPage('');
  await page.setInputFiles('#file', { name: 'corrupt.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\nthis is not a picture') });
  await page.waitForSelector('#error', { timeout: 30_000 });
  const message = await page.textContent('#error');
  assert.match(message, /corrupt\.png/);
  await page.screenshot({ path: path.join(artifacts, 'web-corrupt-upload.png'), fullPage: true });
  await page.click('#error button');
  await page.click('#sample');
  const result = await finished(page);
  assert.equal(result.status, 'done', `after the error: ${result.error}`);
});

await check('CPU fallback gives the same numbers', async () => {
  const cpu = await openPage(`?demo=1&mode=evaluate&backend=cpu&model=${model}`);
  const result = await finished(cpu);
  assert.equal(result.backend, 'cpu');
  assertMatchesCli(result);
  assert.match(await cpu.textContent('#notice'), /CPU/);
  await cpu.close();
});

await browser.close();
server.close();
finish('browser tests');
