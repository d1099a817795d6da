// Browser test of the rating study served by `srkd serve`, in headless Debian Chromium:
//
//   node web/tests/serve.mjs DIST SRKD_BINARY ARTIFACT_DIR
//
// Two raters in two browser contexts rate the study against a live server. The second loses
// the connection to the API mid-study (answers queue in the page), the server is killed with
// SIGKILL and restarted on the same database and port, the connection comes back and the rater
// finishes: every answer reaches the database. A third browser continues the second rater's session from their
// resume code. The experimenter's live table equals `srkd dmos` on the files of
// `srkd study ratings`, and /results shows it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { check, finish, launchChromium } from './harness.mjs';

const [distArg, srkd, artifacts] = process.argv.slice(2);
if (!artifacts) {
  console.error('usage: node serve.mjs DIST SRKD_BINARY ARTIFACT_DIR');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const out = path.resolve(artifacts, 'serve');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const db = `sqlite:${path.join(out, 'ratings.db')}`;
const tokenFile = path.join(out, 'admin-token');
// The test plays raters who see the pictures: it knows each picture's method from the original
// study file; the page and the server never tell.
const study = JSON.parse(fs.readFileSync(path.join(root, 'web/study/study.json'), 'utf8'));
const itemByUrl = new Map(study.items.map((item) => [`study/${item.url}`, item]));

let server;
async function startServer(bind) {
  const child = spawn(srkd, ['serve', '--bind', bind, '--web', path.resolve(distArg), '--db', db, '--admin-token-file', tokenFile], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`srkd serve exited with ${code}`)));
  });
  const match = first.match(/listening on (http:\/\/[0-9.:]+)\//);
  assert.ok(match, `unexpected first line: ${first}`);
  server = { child, base: match[1] };
  return server;
}
await startServer('127.0.0.1:0');
const base = server.base;
const admin = fs.readFileSync(tokenFile, 'utf8').trim();
const browser = await launchChromium();

const state = (page) => page.$eval('#study-state', (e) => ({ ...e.dataset }));
const waitFor = (page, predicate, arg, timeout = 60_000) => page.waitForFunction(predicate, arg, { timeout, polling: 50 });
const stageIs = (page, stage) => waitFor(page, (s) => document.querySelector('#study-state')?.dataset.stage === s, stage);
const trialReady = async (page, trial) => {
  await waitFor(page, (t) => {
    const d = document.querySelector('#study-state')?.dataset;
    return d && d.stage === 'trial' && d.ready === '1' && Number(d.trial) === t;
  }, trial);
  return state(page);
};
const allSent = (page) => waitFor(page, () => document.querySelector('#study-state')?.dataset.waiting === '0', null, 90_000);
const scoreOf = (rater, item) => (item.method === 'reference' ? 5 : 1 + ((rater.length * 7 + item.image.length * 3 + item.method.length) % 4));
const given = {};

async function openRater(rater) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  await page.goto(`${base}/#study`);
  await stageIs(page, 'welcome');
  await page.fill('#rater-id', rater);
  await page.click('#start');
  await stageIs(page, 'instructions');
  assert.equal((await state(page)).server, '1', 'the page found the server and registered');
  await page.click('#begin');
  await waitFor(page, () => document.querySelector('#study-state')?.dataset.ready === '1');
  await page.keyboard.press('3'); // the practice picture
  given[rater] = new Map();
  return { context, page };
}

async function rate(page, rater, from, to) {
  for (let trial = from; trial < to; trial++) {
    const s = await trialReady(page, trial);
    const item = itemByUrl.get(s.url);
    assert.ok(item, `unknown picture ${s.url}`);
    const score = scoreOf(rater, item);
    await page.keyboard.press(String(score));
    given[rater].set(`${item.image}\n${item.method}`, score);
  }
}

let ben;
await check('two raters; one goes offline, the server is SIGKILLed and restarted, nothing is lost', async () => {
  const ann = await openRater('ann');
  ben = await openRater('ben');
  await rate(ann.page, 'ann', 0, study.items.length);
  await stageIs(ann.page, 'finished');
  await allSent(ann.page);
  const half = Math.floor(study.items.length / 2);
  await rate(ben.page, 'ben', 0, half);
  await allSent(ben.page);
  // The connection to the study API drops (pictures still load: they come from the cache or
  // the network as before): answers must queue in the page.
  await ben.page.route('**/api/**', (route) => route.abort('internetdisconnected'));
  await rate(ben.page, 'ben', half, half + 4);
  await waitFor(ben.page, () => Number(document.querySelector('#study-state')?.dataset.waiting) > 0);
  assert.match(await ben.page.textContent('#sync-status'), /Offline — \d+ answers waiting/);
  await ben.page.screenshot({ path: path.join(artifacts, 'serve-offline.png') });
  server.child.kill('SIGKILL');
  await new Promise((resolve) => server.child.once('exit', resolve));
  await startServer(new URL(base).host);
  await ben.page.unroute('**/api/**');
  await rate(ben.page, 'ben', half + 4, study.items.length);
  await stageIs(ben.page, 'finished');
  await allSent(ben.page);
  await ann.context.close();
});

await check('a resume code continues the session in another browser', async () => {
  const code = (await ben.page.textContent('#resume-code')).trim();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/#study`);
  await stageIs(page, 'welcome');
  await page.fill('#resume-input', code.toLowerCase());
  await page.click('#resume');
  await stageIs(page, 'finished');
  const s = await state(page);
  assert.equal(s.rater, 'ben');
  assert.equal(Number(s.trial), study.items.length);
  await context.close();
  await ben.context.close();
});

await check('the live table equals srkd dmos on the exported files; /results shows it', async () => {
  const live = await fetch(`${base}/api/admin/studies/${study.id}/dmos.json`, { headers: { Authorization: `Bearer ${admin}` } });
  assert.equal(live.status, 200);
  const liveJson = await live.text();
  const files = path.join(out, 'ratings');
  execFileSync(srkd, ['study', 'ratings', '--db', db, '--out', files], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const names = fs.readdirSync(files).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(files, f));
  assert.equal(names.length, 2);
  for (const file of names) {
    const session = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(session.ratings.length, study.items.length, `${session.rater}: every answer stored`);
    for (const r of session.ratings) assert.equal(r.score, given[session.rater].get(`${r.image}\n${r.method}`), `${session.rater}: ${r.image} / ${r.method}`);
  }
  const cliJson = path.join(out, 'cli-dmos.json');
  execFileSync(srkd, ['dmos', ...names, '--json', cliJson], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  assert.equal(liveJson, fs.readFileSync(cliJson, 'utf8'), 'live dmos.json equals srkd dmos --json byte for byte');
  const page = await browser.newPage();
  await page.goto(`${base}/results#token=${admin}`);
  await page.waitForSelector('tr[data-method]');
  assert.equal(await page.locator('tr[data-method]').count(), Object.keys(JSON.parse(liveJson).method_means).length);
  await page.screenshot({ path: path.join(artifacts, 'serve-results.png'), fullPage: true });
});

await browser.close();
server.child.kill('SIGTERM');
finish('serve tests');
