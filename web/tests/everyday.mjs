// Browser tests of the upscaler for everyday use (issue #18), in headless Debian Chromium:
//
//   node web/tests/everyday.mjs DIST MODEL_ID CLI_EVAL_JSON ARTIFACT_DIR
//
// - a batch of 5 files (one corrupt, two of the same name) runs as a queue: the corrupt one is
//   reported and the rest finish; "Download all" gives a ZIP whose PNGs, one per good file,
//   equal `srkd upscale` (ARTIFACT_DIR/batch-NAME.png, which test-web.sh writes) within 1;
//   a failed item can be retried and a waiting one cancelled without breaking the queue;
// - a dropped folder (and its subfolders) queues every picture in it, nothing else;
// - two models on one picture (?compare=teacher-srresnet): both results and their metrics, each
//   equal to `srkd eval` of that model (ARTIFACT_DIR/cli-eval-teacher.json); the ZIP holds both;
// - an RGBA picture keeps its (bicubic-resized) alpha: the page's PNG equals `srkd upscale`'s;
// - 16-bit PNG in → 16-bit PNG out (?format=png16), equal to `srkd upscale --depth 16`;
// - JPEG output: the download is a JPEG named .jpg, of the result's size;
// - offline: after one visit the service worker serves the page, wasm (only the build the
//   loader ran is cached) and default model with the server gone, and the sample still matches
//   `srkd eval`;
// - phones: at 360 px wide with touch, nothing is wider than the screen, the queue and the
//   compare view fit, 1:1 view pans by touch; screenshots as artifacts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { check, finish, finished, launchChromium, openPage as open, pixelDiff, serveDist } from './harness.mjs';

const [distArg, model, cliJson, artifacts] = process.argv.slice(2);
if (!artifacts) {
  console.error('usage: node everyday.mjs DIST MODEL_ID CLI_EVAL_JSON ARTIFACT_DIR');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const cli = JSON.parse(fs.readFileSync(cliJson, 'utf8')).images[0];
const server = await serveDist(distArg);
const browser = await launchChromium();
const openPage = (query, options) => open(browser, `${server.base}/${query}`, options);
const file = (name, from) => ({ name, mimeType: name.endsWith('.jpg') ? 'image/jpeg' : 'image/png', buffer: fs.readFileSync(path.join(root, from)) });

const queueDone = (page, timeout = 480_000) => page.waitForFunction(
  () => document.querySelector('#queue')?.dataset.active === '0', null, { timeout, polling: 250 });
const queueData = (page) => page.$eval('#queue', (e) => ({ ...e.dataset }));

/** The stored (or any) entries of a ZIP, read from its central directory: name → bytes. */
function unzip(zip) {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'no end-of-central-directory record');
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map();
  for (let n = zip.readUInt16LE(end + 10); n > 0; n--) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'central directory entry');
    const [method, size] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 20)];
    const [nameLength, extraLength, commentLength] = [zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32)];
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString();
    assert.equal(method, 0, `${name}: stored`);
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.set(name, zip.subarray(data, data + size));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

await check('a batch of 5 with a corrupt file: reported, the rest finish, ZIP equals srkd upscale', async () => {
  const page = await openPage(`?backend=cpu&model=${model}`);
  await page.waitForFunction(() => document.querySelector('#result')?.dataset.status === 'idle', null, { timeout: 60_000 });
  await page.setInputFiles('#file', [
    file('butterfly.png', 'data/eval/butterfly.png'),
    file('corrupt.png', 'web/tests/package.json'),
    file('chelsea.png', 'data/eval/chelsea.png'),
    file('cmyk.jpg', 'tests/fixtures/cmyk.jpg'),
    file('butterfly.png', 'data/eval/butterfly.png'),
  ]);
  await queueDone(page);
  let queue = await queueData(page);
  assert.deepEqual([queue.total, queue.done, queue.failed], ['5', '4', '1'], JSON.stringify(queue));
  assert.match(await page.textContent('#queue li.failed'), /corrupt\.png/);
  await page.screenshot({ path: path.join(artifacts, 'web-batch.png'), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  assert.equal(download.suggestedFilename(), 'srkd-results.zip');
  const entries = unzip(fs.readFileSync(await download.path()));
  const stem = (name) => `${name}_x4_${model}`;
  assert.deepEqual([...entries.keys()].sort(),
    [`${stem('butterfly')}.png`, `${stem('butterfly')}-2.png`, `${stem('chelsea')}.png`, `${stem('cmyk')}.png`].sort());
  for (const [name, png] of entries) {
    const source = name.match(/^(.+?)_x4_/)[1];
    const diff = await pixelDiff(page, png, fs.readFileSync(path.join(artifacts, `batch-${source}.png`)));
    assert.ok(diff.worst !== undefined && diff.worst <= 1, `${name} vs srkd upscale: ${JSON.stringify(diff)}`);
  }

  // Retrying the corrupt file fails again, cleanly; the good results stay.
  await page.click('#queue li.failed button.retry');
  await queueDone(page);
  queue = await queueData(page);
  assert.deepEqual([queue.done, queue.failed], ['4', '1'], JSON.stringify(queue));

  // Two more: the second is cancelled while it waits (behind a 512² picture); the first finishes.
  await page.setInputFiles('#file', [file('again.png', 'data/eval/astronaut.png'), file('later.png', 'data/eval/butterfly.png')]);
  // A DOM click: the list re-renders on every tile, which Playwright's actionability checks chase.
  await page.waitForSelector('#queue li[data-name="later.png"] button.cancel');
  await page.$eval('#queue li[data-name="later.png"] button.cancel', (b) => b.click());
  await queueDone(page);
  queue = await queueData(page);
  assert.deepEqual([queue.total, queue.done, queue.failed, queue.cancelled], ['7', '5', '1', '1'], JSON.stringify(queue));
  await page.close();
});

await check('a dropped folder brings every picture in it and in its subfolders', async () => {
  const page = await openPage(`?backend=cpu&model=${model}`);
  await page.waitForFunction(() => document.querySelector('#result')?.dataset.status === 'idle', null, { timeout: 60_000 });
  // A drop's entries come from the File System entries API, which a script cannot fill with a
  // real folder: the items answer with entries of the same shape (a folder read in two
  // batches, a subfolder, a file that is not a picture).
  await page.evaluate(async () => {
    const png = new Uint8Array(await (await fetch('butterfly.png')).arrayBuffer());
    const file = (name, type = 'image/png', data = png) => new File([data], name, { type });
    const fileEntry = (f) => ({ isFile: true, isDirectory: false, name: f.name, file: (ok) => setTimeout(() => ok(f)) });
    const folderEntry = (name, children) => ({
      isFile: false, isDirectory: true, name,
      createReader: () => {
        const batches = [children.slice(0, 2), children.slice(2), []];
        return { readEntries: (ok) => setTimeout(() => ok(batches.shift() ?? [])) };
      },
    });
    const folder = folderEntry('photos', [
      fileEntry(file('b.png')), fileEntry(file('notes.txt', 'text/plain', new Uint8Array([1]))),
      folderEntry('more', [fileEntry(file('c.png'))]), fileEntry(file('a.png')),
    ]);
    const transfer = new DataTransfer();
    transfer.items.add(file('photos', ''));
    DataTransferItem.prototype.webkitGetAsEntry = () => folder;
    document.querySelector('.page').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  await page.waitForSelector('#queue');
  await queueDone(page);
  const queue = await queueData(page);
  assert.deepEqual([queue.total, queue.done], ['3', '3'], JSON.stringify(queue));
  assert.deepEqual(await page.$$eval('#queue li', (items) => items.map((i) => i.dataset.name)), ['a.png', 'b.png', 'c.png']);
  await page.close();
});

await check('two models on one picture: both equal srkd eval of that model', async () => {
  const teacher = JSON.parse(fs.readFileSync(path.join(artifacts, 'cli-eval-teacher.json'), 'utf8')).images[0];
  const page = await openPage(`?demo=1&mode=evaluate&backend=cpu&model=${model}&compare=teacher-srresnet`);
  const result = await finished(page);
  assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
  assert.equal(result.compareModel, 'teacher-srresnet');
  const near = (got, want, tol, what) => assert.ok(Math.abs(Number(got) - want) <= tol, `${what}: page ${got} vs srkd eval ${want}`);
  near(result.psnr, cli.model.psnr, 0.01, `${model} PSNR-Y`);
  near(result.psnrCompare, teacher.model.psnr, 0.01, 'teacher PSNR-Y');
  near(result.ssimCompare, teacher.model.ssim, 0.0005, 'teacher SSIM-Y');
  assert.match(await page.textContent('.compare-tools'), /Teacher · SRResNet/);
  await page.screenshot({ path: path.join(artifacts, 'web-compare-models.png'), fullPage: true });
  // The second model's result downloads on its own, and a batch's ZIP holds both models' results.
  const [single] = await Promise.all([page.waitForEvent('download'), page.click('#download-compared')]);
  assert.equal(single.suggestedFilename(), 'butterfly_x4_teacher-srresnet.png');
  await page.setInputFiles('#file', [file('second.png', 'data/eval/butterfly.png')]);
  await queueDone(page);
  const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  const entries = unzip(fs.readFileSync(await zip.path()));
  const names = (stem) => [`${stem}_x4_${model}.png`, `${stem}_x4_teacher-srresnet.png`];
  assert.deepEqual([...entries.keys()].sort(), [...names('butterfly'), ...names('second')].sort());
  const ours = entries.get(`second_x4_${model}.png`);
  const diff = await pixelDiff(page, ours, entries.get('second_x4_teacher-srresnet.png'));
  assert.ok(diff.worst > 0, `the two models' results are the same picture: ${JSON.stringify(diff)}`);
  const same = await pixelDiff(page, fs.readFileSync(await single.path()), entries.get('butterfly_x4_teacher-srresnet.png'));
  assert.equal(same.worst, 0, 'the single download and the ZIP entry are the same result');
  await page.close();
  const bad = await openPage('?compare=nosuchmodel');
  await bad.waitForSelector('#error', { timeout: 30_000 });
  assert.match(await bad.textContent('#error'), /unknown model to compare `nosuchmodel`/);
  await bad.close();
  const badFormat = await openPage('?format=gif');
  await badFormat.waitForSelector('#error', { timeout: 30_000 });
  assert.match(await badFormat.textContent('#error'), /unknown format `gif`; use png, png16, jpeg or jpg/);
  await badFormat.close();
});

await check('transparency is kept as srkd upscale keeps it', async () => {
  const page = await openPage(`?backend=cpu&model=${model}`);
  await page.waitForFunction(() => document.querySelector('#result')?.dataset.status === 'idle', null, { timeout: 60_000 });
  await page.setInputFiles('#file', [file('alpha.png', 'tests/fixtures/alpha.png')]);
  const result = await finished(page);
  assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
  assert.match(await page.textContent('.figures'), /Transparency kept/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const png = fs.readFileSync(await download.path());
  assert.equal(png[25], 6, 'an RGBA PNG (colour type 6)');
  const diff = await pixelDiff(page, png, fs.readFileSync(path.join(artifacts, 'batch-alpha.png')));
  assert.ok(diff.worst !== undefined && diff.worst <= 1, `page vs srkd upscale (RGBA): ${JSON.stringify(diff)}`);
  await page.close();
});

await check('16-bit PNG in, 16-bit PNG out as srkd upscale --depth 16', async () => {
  const page = await openPage(`?backend=cpu&format=png16&model=${model}`);
  await page.waitForFunction(() => document.querySelector('#result')?.dataset.status === 'idle', null, { timeout: 60_000 });
  await page.setInputFiles('#file', [file('deep16.png', 'tests/fixtures/deep16.png')]);
  const result = await finished(page);
  assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const png = fs.readFileSync(await download.path());
  const cli16 = fs.readFileSync(path.join(artifacts, 'cli-deep16.png'));
  assert.deepEqual([png[24], png[25]], [16, 2], 'a 16-bit RGB PNG');
  assert.deepEqual(png.subarray(16, 24), cli16.subarray(16, 24), 'the CLI\'s size');
  // The browser decodes both to 8 bits for the pixel check.
  const diff = await pixelDiff(page, png, cli16);
  assert.ok(diff.worst !== undefined && diff.worst <= 1, `page vs srkd upscale --depth 16: ${JSON.stringify(diff)}`);
  await page.close();
});

await check('JPEG output downloads as a .jpg of the result size', async () => {
  const page = await openPage(`?demo=1&mode=upscale&backend=cpu&format=jpeg&model=${model}`);
  const result = await finished(page);
  assert.equal(result.status, 'done', `status ${result.status}: ${result.error}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.match(download.suggestedFilename(), new RegExp(`^butterfly_x4_${model}\\.jpg$`));
  const jpeg = fs.readFileSync(await download.path());
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG file');
  const size = await page.evaluate(async (b64) => {
    const bitmap = await createImageBitmap(await (await fetch(`data:image/jpeg;base64,${b64}`)).blob());
    return [bitmap.width, bitmap.height];
  }, jpeg.toString('base64'));
  assert.deepEqual(size, [1024, 1024]);
  await page.close();
});

await check('offline: the second visit works with the server gone', async () => {
  const site = await serveDist(distArg);
  const context = await browser.newContext({ viewport: { width: 1200, height: 1100 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  await page.goto(`${site.base}/`);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  // The worker cached the page's build (one wasm).
  const cachedWasm = await page.evaluate(async () => {
    const cache = await caches.open((await caches.keys()).find((key) => key.startsWith('srkd-')));
    return (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop()).filter((f) => f.endsWith('.wasm'));
  });
  assert.equal(cachedWasm.length, 1, `cached wasm: ${cachedWasm.join(', ')}`);
  assert.match(cachedWasm[0], /^srkd-web-[0-9a-f]{16}_bg\.wasm$/);
  site.close();
  await context.setOffline(true);
  await page.goto(`${site.base}/?demo=1&mode=evaluate&backend=cpu&model=${model}`);
  const result = await finished(page);
  assert.equal(result.status, 'done', `offline: ${result.error}`);
  assert.ok(Math.abs(Number(result.psnr) - cli.model.psnr) <= 0.01, `offline PSNR ${result.psnr} vs ${cli.model.psnr}`);
  await page.screenshot({ path: path.join(artifacts, 'web-offline.png'), fullPage: true });
  await context.close();
});

await check('a phone: 360 px wide with touch, nothing wider than the screen', async () => {
  const phone = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
  const page = await openPage(`?demo=1&mode=upscale&backend=cpu&model=${model}`, phone);
  assert.equal((await finished(page)).status, 'done');
  await page.setInputFiles('#file', [file('chelsea.png', 'data/eval/chelsea.png'), file('cmyk.jpg', 'tests/fixtures/cmyk.jpg')]);
  await queueDone(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 360 px screen`);
  await page.screenshot({ path: path.join(artifacts, 'web-mobile.png'), fullPage: true });
  await page.tap('#queue li[data-name="chelsea.png"] button.view');
  await page.tap('#zoom');
  const pan = await page.$eval('.compare-scroll', (e) => ({
    touch: getComputedStyle(e).touchAction, wider: e.scrollWidth > e.clientWidth, width: e.getBoundingClientRect().width }));
  assert.ok(pan.wider && /pan-x|manipulation/.test(pan.touch) && pan.width <= 360, `1:1 view: ${JSON.stringify(pan)}`);
  await page.screenshot({ path: path.join(artifacts, 'web-mobile-zoom.png') });
  await page.close();
});

await browser.close();
server.close();
finish('everyday-use browser tests');
