// Browser test of the rating study and the DMOS results view, in headless Debian Chromium:
//
//   node web/tests/study.mjs DIST SRKD_COMMAND ARTIFACT_DIR
//
// Three scripted raters complete the study shipped in DIST/study (keys and buttons, one undo);
// the page is reloaded mid-way and must resume at the same trial with no rating lost; stored
// ratings that do not fit the study are never overwritten; each
// export must hold exactly the ratings given; the exports (JSON and CSV) are re-imported in the
// results view, bad files are refused by name without losing what was imported, and the page's
// DMOS table and its JSON/CSV exports must equal `srkd dmos` on the same files.
// SRKD_COMMAND is a shell command prefix that runs the CLI (e.g. "cargo run -q -p srkd --").
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, finish, launchChromium, openPage, serveDist } from './harness.mjs';

const [distArg, srkd, artifacts] = process.argv.slice(2);
if (!artifacts) {
  console.error('usage: node study.mjs DIST SRKD_COMMAND ARTIFACT_DIR');
  process.exit(2);
}
const out = path.join(artifacts, 'study');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const study = JSON.parse(fs.readFileSync(path.join(distArg, 'study', 'study.json'), 'utf8'));
const itemByUrl = new Map(study.items.map((item) => [`study/${item.url}`, item]));
assert.equal(itemByUrl.size, study.items.length, 'the test needs one file per item');
const server = await serveDist(distArg);
const browser = await launchChromium();

// A rater's scores: the reference mostly 5, the rest a rater-specific pseudo-random spread, so
// every rater has non-zero variance and the raters disagree a little.
function scorer(rater) {
  let h = [...rater].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7);
  return (item) => {
    h = (h * 1103515245 + 12345) >>> 0;
    if (item.method === 'reference') return h % 4 === 0 ? 4 : 5;
    return 1 + ((h >>> 8) % 4);
  };
}

const state = (page) => page.$eval('#study-state', (e) => ({ ...e.dataset }));
async function waitFor(page, predicate, arg, timeout = 60_000) {
  await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
  return state(page);
}
const stageIs = (page, stage) => waitFor(page, (s) => document.querySelector('#study-state')?.dataset.stage === s, stage);
const trialReady = (page, trial) => waitFor(page, (t) => {
  const d = document.querySelector('#study-state')?.dataset;
  return d && d.stage === 'trial' && d.ready === '1' && Number(d.trial) === t;
}, trial);
const stored = (page, rater) => page.evaluate(({ id, rater }) => JSON.parse(localStorage.getItem(`srkd.study.${id}.rater.${rater}`) ?? 'null'), { id: study.id, rater });

async function download(page, selector, file) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  await dl.saveAs(file);
  return file;
}

/** Rate every trial as `rater`; optional hooks at given trials. Returns {given, urls}. */
async function rateAll(page, rater, { undoAt, reloadAt } = {}) {
  const score = scorer(rater);
  const given = new Map();
  const urls = [];
  await stageIs(page, 'welcome');
  await page.fill('#rater-id', rater);
  await page.click('#start');
  await stageIs(page, 'instructions');
  await page.click('#begin');
  await waitFor(page, () => document.querySelector('#study-state')?.dataset.ready === '1');
  assert.equal((await state(page)).stage, 'training');
  await page.keyboard.press('3');
  for (let trial = 0; trial < study.items.length; trial++) {
    let s = await trialReady(page, trial);
    if (trial === reloadAt) {
      const before = { ...(await stored(page, rater)), url: s.url };
      assert.equal(before.ratings.length, trial, 'every rating is stored at once');
      await page.reload();
      s = await trialReady(page, trial);
      assert.equal(s.rater, rater, 'the reloaded page resumes the same rater');
      assert.equal(s.url, before.url, 'the same picture after the reload');
      assert.deepEqual((await stored(page, rater)).ratings, before.ratings, 'no rating lost by the reload');
      assert.match(await page.textContent('.notice'), /continuing at trial/);
    }
    if (trial === 1 && rater === 'rater-1') await page.screenshot({ path: path.join(artifacts, 'study-trial.png'), fullPage: true });
    const item = itemByUrl.get(s.url);
    assert.ok(item, `unknown picture ${s.url}`);
    urls.push(s.url);
    let value = score(item);
    // Alternate buttons and keys.
    if (trial % 2) await page.keyboard.press(String(value));
    else await page.click(`.score[data-score="${value}"]`);
    if (trial === undoAt) {
      await trialReady(page, trial + 1);
      await page.keyboard.press('Backspace');
      const back = await trialReady(page, trial);
      assert.equal(back.url, s.url, 'undo returns to the same picture');
      assert.equal((await stored(page, rater)).ratings.length, trial, 'undo removes the stored rating');
      value = value === 5 ? 1 : value + 1;
      await page.click(`.score[data-score="${value}"]`);
    }
    given.set(`${item.image}\n${item.method}`, value);
  }
  await stageIs(page, 'finished');
  return { given, urls };
}

function assertExportHolds(file, rater, given) {
  const session = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(session.rater, rater);
  assert.equal(session.study, study.id);
  assert.equal(session.ratings.length, study.items.length);
  for (const r of session.ratings) {
    assert.equal(r.score, given.get(`${r.image}\n${r.method}`), `${r.image} / ${r.method}`);
    assert.ok(r.ms >= 0, 'response time recorded');
  }
}

const files = {};
let page;
const orders = {};
await check('a rater completes the study with keys, buttons, undo and a reload mid-way', async () => {
  page = await openPage(browser, `${server.base}/#study`);
  const { given, urls } = await rateAll(page, 'rater-1', { undoAt: 3, reloadAt: Math.floor(study.items.length / 2) });
  orders['rater-1'] = urls;
  assert.equal(new Set(urls).size, study.items.length, 'every item shown exactly once');
  await page.screenshot({ path: path.join(artifacts, 'study-finished.png'), fullPage: true });
  files['rater-1.json'] = await download(page, '#export-json', path.join(out, 'rater-1.json'));
  files['rater-1.csv'] = await download(page, '#export-csv', path.join(out, 'rater-1.csv'));
  assertExportHolds(files['rater-1.json'], 'rater-1', given);
});

await check('two more raters get their own order', async () => {
  for (const rater of ['rater-2', 'rater-3']) {
    await page.click('#new-rater');
    const { given, urls } = await rateAll(page, rater);
    orders[rater] = urls;
    files[`${rater}.json`] = await download(page, '#export-json', path.join(out, `${rater}.json`));
    assertExportHolds(files[`${rater}.json`], rater, given);
  }
  files['rater-3.csv'] = await download(page, '#export-csv', path.join(out, 'rater-3.csv'));
  assert.notDeepEqual(orders['rater-1'], orders['rater-2'], 'order randomized per rater');
  assert.notDeepEqual(orders['rater-2'], orders['rater-3'], 'order randomized per rater');
});

await check('stored ratings that do not fit the study are never overwritten', async () => {
  const key = `srkd.study.${study.id}.rater.clash`;
  const foreign = JSON.stringify({ rater: 'clash', study: study.id, ratings: [{ image: 'nope.png', method: 'x', score: 3 }] });
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [key, foreign]);
  await page.click('#new-rater');
  await stageIs(page, 'welcome');
  await page.fill('#rater-id', 'clash');
  await page.click('#start');
  await page.waitForSelector('#study-error');
  assert.match(await page.textContent('#study-error'), /do not match this study/);
  assert.equal((await state(page)).stage, 'welcome');
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), key), foreign, 'the stored session is untouched');
});

await check('the results view equals srkd dmos and refuses bad files by name', async () => {
  await page.goto(`${server.base}/#results`);
  // Rater 3 comes in as CSV: both export formats import.
  const imported = [files['rater-1.json'], files['rater-2.json'], files['rater-3.csv']];
  await page.setInputFiles('#import', imported);
  await page.waitForSelector('#dmos-table');
  const bad = path.join(out, 'truncated.json');
  fs.writeFileSync(bad, fs.readFileSync(files['rater-2.json'], 'utf8').slice(0, 120));
  const foreign = path.join(out, 'foreign.json');
  fs.writeFileSync(foreign, JSON.stringify({ ...JSON.parse(fs.readFileSync(files['rater-1.json'], 'utf8')), rater: 'someone', study: 'another-study' }));
  const outOfRange = path.join(out, 'score-seven.json');
  const seven = JSON.parse(fs.readFileSync(files['rater-1.json'], 'utf8'));
  seven.rater = 'seven';
  seven.ratings[0].score = 7;
  fs.writeFileSync(outOfRange, JSON.stringify(seven));
  await page.setInputFiles('#import', [bad, foreign, outOfRange, files['rater-1.csv']]);
  await page.waitForSelector('#import-errors');
  const errors = await page.textContent('#import-errors');
  for (const name of ['truncated.json', 'foreign.json', 'score-seven.json', 'rater-1.csv']) assert.ok(errors.includes(name), `${name} not named in: ${errors}`);
  assert.equal(await page.locator('#sessions tr[data-rater]').count(), 3, 'what was imported stays');
  await page.screenshot({ path: path.join(artifacts, 'study-results.png'), fullPage: true });

  const cliJson = path.join(out, 'cli-dmos.json');
  const cliCsv = path.join(out, 'cli-dmos.csv');
  execSync(`${srkd} dmos ${imported.map((f) => JSON.stringify(f)).join(' ')} --json ${JSON.stringify(cliJson)} --csv ${JSON.stringify(cliCsv)}`, { stdio: ['ignore', 'ignore', 'inherit'] });
  const cli = JSON.parse(fs.readFileSync(cliJson, 'utf8'));
  const cells = await page.$$eval('#dmos-table td[data-dmos]', (tds) => tds.map((td) => ({ ...td.dataset })));
  const expected = Object.values(cli.dmos).reduce((n, row) => n + Object.keys(row).length, 0);
  assert.equal(cells.length, expected, 'one cell per image and method');
  for (const c of cells) {
    const want = cli.dmos[c.image][c.method].dmos;
    assert.ok(Math.abs(Number(c.dmos) - want) < 1e-9, `${c.image} / ${c.method}: page ${c.dmos} vs srkd dmos ${want}`);
  }
  // The hidden reference is a labelled sanity row, never a method of the z-scored table.
  assert.ok(Object.values(cli.dmos).every((row) => !('reference' in row)), 'reference is not z-scored as a method');
  const sanity = await page.$$eval('#dmos-table td[data-reference]', (tds) => tds.map((td) => ({ ...td.dataset })));
  assert.equal(sanity.length, Object.keys(cli.reference).length, 'one sanity cell per image');
  for (const c of sanity) {
    assert.ok(Math.abs(Number(c.reference) - cli.reference[c.image].dmos) < 1e-9, `reference sanity of ${c.image}`);
  }
  const pageJson = await download(page, '#export-table-json', path.join(out, 'page-dmos.json'));
  const pageCsv = await download(page, '#export-table-csv', path.join(out, 'page-dmos.csv'));
  assert.deepEqual(JSON.parse(fs.readFileSync(pageJson, 'utf8')), cli, 'table JSON equals srkd dmos --json');
  assert.equal(fs.readFileSync(pageCsv, 'utf8'), fs.readFileSync(cliCsv, 'utf8'), 'table CSV equals srkd dmos --csv');
});

await browser.close();
server.close();
finish('study tests');
