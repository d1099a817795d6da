// What the browser tests share: a static server for dist/, headless Debian Chromium with
// WebGPU on SwiftShader (never a downloaded browser), and named checks that report and count
// failures.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.png': 'image/png', '.json': 'application/json', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json' };

/** Serve `dist` (the page is a static site) with `headers` on every answer; resolves to
    { base, close }. */
export async function serveDist(distArg, headers = {}) {
  const dist = path.resolve(distArg);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const file = path.join(dist, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Closing also drops kept-alive connections, so a test can take the site offline for real.
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
      '--use-webgpu-adapter=swiftshader', '--disable-background-networking', '--no-first-run',
    ],
  });
}

/** A page that echoes the app's console errors/warnings into the test log. */
export async function openPage(browser, url, options = { viewport: { width: 1200, height: 1100 } }) {
  const page = await browser.newPage(options);
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`  [page ${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) console.log(`  [page] HTTP ${r.status()} ${r.url()}`); });
  await page.goto(url);
  return page;
}

/** Wait for the upscaler's `#result` to settle; its data attributes. */
export async function finished(page, timeout = 480_000) {
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.querySelector('#result')?.dataset.status),
    null, { timeout, polling: 250 });
  return page.$eval('#result', (e) => ({ ...e.dataset }));
}

export /** Largest per-channel difference between two PNGs, decoded by the page's own browser. */
async function pixelDiff(page, a, b) {
  return page.evaluate(async ([a, b]) => {
    const load = async (b64) => {
      const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d');
      context.drawImage(bitmap, 0, 0);
      return context.getImageData(0, 0, bitmap.width, bitmap.height);
    };
    const [x, y] = [await load(a), await load(b)];
    if (x.width !== y.width || x.height !== y.height) return { size: `${x.width}×${x.height} vs ${y.width}×${y.height}` };
    let worst = 0;
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i] - y.data[i]));
    return { worst };
  }, [a.toString('base64'), b.toString('base64')]);
}

const failures = [];

export async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e.stack ?? e.message}`);
  }
}

/** Print the verdict and exit non-zero if any check failed. */
export function finish(what) {
  if (failures.length) {
    console.log(`${failures.length} ${what} failed: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log(`all ${what} passed`);
}
