// What the browser tests share: a static server for dist/, headless Debian Chromium with
// WebGPU on SwiftShader (never a downloaded browser), and named checks that report and count
// failures.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.png': 'image/png', '.json': 'application/json' };

/** Serve `dist` (the page is a static site); resolves to { base, close }. */
export async function serveDist(distArg) {
  const dist = path.resolve(distArg);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const file = path.join(dist, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
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
export async function openPage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`  [page ${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) console.log(`  [page] HTTP ${r.status()} ${r.url()}`); });
  await page.goto(url);
  return page;
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
