// Browser tests of the built web app (web/dist) in headless Debian Chromium, WebGPU on
// SwiftShader. Run by scripts/test-web.sh, which first builds the app and computes the CLI's
// figures for the same image and model:
//
//   node web/tests/browser.mjs DIST MODEL_ID CLI_EVAL_JSON ARTIFACT_DIR
//
// Checks: the ?demo=1 evaluate run reaches `done` on WebGPU (?backend=webgpu) with PSNR/SSIM
// equal to `srkd eval` (0.01 dB / 0.0005); a corrupt upload shows an error and the page keeps
// working; the default backend on SwiftShader (a software adapter) is the CPU with the direct
// WebAssembly SIMD kernels, and gives the same numbers; those kernels equal burn's reference ops
// within 1e-3 on 0–255 on every tile (?kernels=compare), and the reference path alone matches the
// CLI too; the loader downloads one build of the page's wasm, the CPU-only one there and the full
// one for ?backend=webgpu and ?probe=1; the first-job probe (?probe=1) runs and says what it
// measured; the CPU's tile workers (?threads=2) give the pixels of the page's own instance, and
// a page whose workers cannot start still upscales, alone; ×2 and width-targeted results equal `srkd upscale --scale 2` / `--width 300` (ARTIFACT_DIR/cli-x2.png, cli-w300.png,
// which test-web.sh writes) within 1 per channel. Saves screenshots as artifacts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { check, finish, finished, launchChromium, openPage as open, pixelDiff, serveDist } from './harness.mjs';

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

/** The one build of the page's wasm `page` downloaded (index.html's loader), and `#result`'s. */
async function assertBuild(page, result, name) {
  const wasm = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((e) => new URL(e.name).pathname.split('/').pop()).filter((file) => file.endsWith('.wasm')));
  assert.equal(wasm.length, 1, `wasm downloaded: ${wasm.join(', ')}`);
  assert.match(wasm[0], new RegExp(`^${name}-[0-9a-f]{16}_bg\\.wasm$`));
  assert.equal(result.build, name);
}

let page;
await check('demo on WebGPU matches srkd eval', async () => {
  page = await openPage(`?demo=1&mode=evaluate&backend=webgpu&model=${model}`);
  const result = await finished(page);
  await page.screenshot({ path: path.join(artifacts, 'web-demo-webgpu.png'), fullPage: true });
  assert.equal(result.backend, 'webgpu', 'WebGPU was not used');
  assert.equal(result.kernels, 'wgsl-fused');
  await assertBuild(page, result, 'srkd-web');
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

await check('default on a software adapter: the CPU with WebAssembly SIMD kernels, same numbers', async () => {
  const auto = await openPage(`?demo=1&mode=evaluate&model=${model}`);
  const result = await finished(auto);
  assert.equal(result.backend, 'cpu', 'SwiftShader should lose to the CPU kernels');
  assert.equal(result.kernels, 'direct-webassembly-simd');
  await assertBuild(auto, result, 'srkd-web');
  assertMatchesCli(result);
  // index.html preloads the weights and the sample beside the wasm; the app reuses both.
  const fetched = await auto.evaluate(() => performance.getEntriesByType('resource')
    .map((e) => new URL(e.name).pathname.split('/').pop()).filter((f) => f.endsWith('.planes') || f === 'butterfly.png'));
  assert.deepEqual(fetched.sort(), ['butterfly.png', `${model}.bpk.planes`], `fetched: ${fetched.join(', ')}`);
  const marks = await auto.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
  assert.ok(marks.includes('srkd:kernels-warmed'), `marks: ${marks.join(', ')}`);
  const notice = await auto.textContent('#notice');
  assert.match(notice, /WebAssembly SIMD/);
  assert.match(notice, /swiftshader.*software renderer/i);
  await auto.screenshot({ path: path.join(artifacts, 'web-demo-cpu-simd.png'), fullPage: true });
  console.log(`  ${result.ms} ms on ${result.backend} (${result.kernels})`);
  await auto.close();
});

await check('without a picture, the page loads the chosen model ahead, once', async () => {
  const idle = await openPage(`?model=${model}`);
  await idle.waitForFunction(() => performance.getEntriesByName('srkd:model-loaded').length === 1, null, { timeout: 60_000 });
  await idle.click('#sample');
  const result = await finished(idle);
  assert.equal(result.status, 'done', result.error);
  const loads = await idle.evaluate(() => [
    performance.getEntriesByName('srkd:model-loaded').length,
    performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.bpk.planes')).length,
  ]);
  assert.deepEqual(loads, [1, 1], 'the first picture used the model loaded ahead (loads, downloads)');
  await idle.close();
  // On WebGPU only the bytes are taken ahead (loading compiles shaders): still one download.
  const gpu = await openPage(`?backend=webgpu&mode=evaluate&model=${model}`);
  const downloads = () => gpu.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.bpk.planes')).length);
  await gpu.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('.bpk.planes')), null, { timeout: 60_000 });
  await gpu.waitForTimeout(300);
  await gpu.click('#sample');
  const onGpu = await finished(gpu);
  assert.equal(onGpu.status, 'done', onGpu.error);
  assert.equal(onGpu.backend, 'webgpu');
  assert.equal(await downloads(), 1, 'the first WebGPU picture used the bytes fetched ahead');
  await gpu.close();
});

/** The sample upscaled ×4 in upscale mode on a page opened with `query`, once `ready` holds. */
async function sampleResult(query, ready) {
  const tab = await openPage(`?mode=upscale&backend=cpu&model=${model}${query}`);
  await tab.waitForFunction(ready, null, { timeout: 60_000 });
  await tab.click('#sample');
  const result = await finished(tab);
  assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
  const [download] = await Promise.all([tab.waitForEvent('download'), tab.click('#download')]);
  return { tab, result, png: fs.readFileSync(await download.path()) };
}

await check('tile workers: the picture cut for 2 workers gives the pixels of one instance', async () => {
  const loaded = () => performance.getEntriesByName('srkd:model-loaded').length === 1;
  const pooled = await sampleResult('&threads=2', () => performance.getEntriesByName('srkd:workers-ready').length === 1);
  assert.equal(pooled.result.workers, '2', 'ran on the pool');
  assert.match(await pooled.tab.textContent('#notice'), /2 workers/);
  assert.match(await pooled.tab.textContent('#timing'), /\d+ tiles of ≤\d+×\d+ px, on 2 workers/);
  const alone = await sampleResult('&threads=1', loaded);
  assert.equal(alone.result.workers, '1');
  const diff = await pixelDiff(alone.tab, pooled.png, alone.png);
  assert.equal(diff.worst, 0, `2 workers vs one instance: ${JSON.stringify(diff)}`);
  await Promise.all([pooled.tab.close(), alone.tab.close()]);
});

await check('tile workers that cannot start leave the page working on its own instance', async () => {
  const tab = await browser.newPage();
  await tab.route('**/tile-worker.js', (route) => route.fulfill({ status: 404, body: 'gone' }));
  const stopped = tab.waitForEvent('console', { predicate: (m) => /a tile worker stopped/.test(m.text()), timeout: 60_000 });
  await tab.goto(`${server.base}/?mode=evaluate&backend=cpu&threads=2&model=${model}`);
  await stopped;
  await tab.click('#sample');
  const result = await finished(tab);
  assertMatchesCli(result);
  assert.equal(result.workers, '1');
  await tab.close();
});

await check('an unknown ?threads= is an error, not a silent default', async () => {
  const bad = await openPage('?threads=lots');
  await bad.waitForSelector('#error', { timeout: 30_000 });
  assert.match(await bad.textContent('#error'), /unknown threads `lots`/);
  await bad.close();
});

await check('direct kernels equal burn reference ops within 1e-3 on every tile', async () => {
  const compare = await openPage(`?demo=1&mode=evaluate&backend=cpu&kernels=compare&model=${model}`);
  const result = await finished(compare);
  assertMatchesCli(result);
  assert.notEqual(result.kernelDiff, '', 'no difference reported');
  assert.ok(Number(result.kernelDiff) <= 1e-3, `direct vs reference: ${result.kernelDiff} on 0–255`);
  console.log(`  largest difference ${result.kernelDiff} on 0–255`);
  await compare.close();
});

await check('fused WebGPU kernels equal burn reference ops within 1e-3 on every tile', async () => {
  const compare = await openPage(`?demo=1&mode=evaluate&backend=webgpu&kernels=compare&model=${model}`);
  const result = await finished(compare);
  assert.equal(result.backend, 'webgpu');
  assertMatchesCli(result);
  assert.notEqual(result.kernelDiff, '', 'no difference reported');
  assert.ok(Number(result.kernelDiff) <= 1e-3, `fused WebGPU vs reference: ${result.kernelDiff} on 0–255`);
  console.log(`  largest difference ${result.kernelDiff} on 0–255`);
  await compare.close();
});

await check('reference CPU path (burn ops) gives the same numbers', async () => {
  const reference = await openPage(`?demo=1&mode=evaluate&backend=cpu&kernels=reference&model=${model}`);
  const result = await finished(reference);
  assert.equal(result.backend, 'cpu');
  assert.equal(result.kernels, 'reference');
  assertMatchesCli(result);
  assert.match(await reference.textContent('#notice'), /burn ops/);
  await reference.close();
});

await check('the probe times WebGPU against the CPU and runs the job on the faster', async () => {
  const probed = await openPage(`?demo=1&mode=evaluate&probe=1&model=${model}`);
  const result = await finished(probed);
  await assertBuild(probed, result, 'srkd-web');
  assertMatchesCli(result);
  const notice = await probed.textContent('#notice');
  // The CPU's time as measured and, with tile workers (2 cores here), as estimated on them.
  assert.match(notice, /faster in the probe \(96×96 px: WebGPU \(.+\) \d+ ms, CPU \d+ ms(, ≈ \d+ ms on \d+ workers)?\)/);
  assert.equal(result.backend, notice.startsWith('WebGPU') ? 'webgpu' : 'cpu', notice);
  console.log(`  ${notice}`);
  await probed.close();
});

await check('an unknown ?backend= is an error, not a silent default', async () => {
  const bad = await openPage('?backend=tpu');
  await bad.waitForSelector('#error', { timeout: 30_000 });
  assert.match(await bad.textContent('#error'), /unknown backend `tpu`/);
  await bad.close();
});

for (const [size, side] of [['x2', 512], ['w300', 300]]) {
  await check(`upscale to ${size} equals srkd upscale`, async () => {
    const sized = await openPage(`?demo=1&mode=upscale&backend=cpu&size=${size}&model=${model}`);
    const result = await finished(sized);
    assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
    assert.deepEqual([Number(result.width), Number(result.height)], [side, side]);
    const [download] = await Promise.all([sized.waitForEvent('download'), sized.click('#download')]);
    assert.match(download.suggestedFilename(), new RegExp(`_${size}_${model}\\.png$`));
    const got = fs.readFileSync(await download.path());
    const diff = await pixelDiff(sized, got, fs.readFileSync(path.join(artifacts, `cli-${size}.png`)));
    assert.ok(diff.worst !== undefined && diff.worst <= 1, `page vs srkd upscale: ${JSON.stringify(diff)}`);
    await sized.close();
  });
}

await browser.close();
server.close();
finish('browser tests');
