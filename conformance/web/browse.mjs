// Drives Debian's chromium through Berth's web pages (issue #17) with playwright-core, as anonymous,
// an organisation member (bob), an outsider (eve) and the owner (alice). Runs axe-core in every page
// it visits (no serious or critical violation allowed) and saves a screenshot of each to $ARTIFACTS.
// Writes the pull command it copied with the page's copy button to $PULL_FILE. Runs its own webhook
// receiver on 127.0.0.1 (Berth started with BERTH_WEBHOOK_ALLOWED_HOSTS=127.0.0.1).
// Prints `ok - …` / `not ok - …` per check; exits non-zero when one failed.
/* global document, location -- page.evaluate callbacks run in the browser */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const { BERTH_URL, CHROMIUM, ARTIFACTS, PULL_FILE, ALICE_PW, BOB_PW, EVE_PW } = process.env;
const passwords = { alice: ALICE_PW, bob: BOB_PW, eve: EVE_PW };

let failed = 0;
let shot = 0;
const pageSizes = [];
function report(ok, name, detail = '') {
  if (!ok) failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail ? `\n#   ${detail.replace(/\n/g, '\n#   ')}` : ''}`);
}
async function check(name, fn) {
  try {
    await fn();
    report(true, name);
  } catch (err) {
    report(false, name, err instanceof Error ? err.message : String(err));
  }
}
function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * A page as a visit: waits for it, saves a screenshot, runs axe (injected through the DevTools
 * protocol, so the page's CSP stays as strict as it is for everyone) and refuses serious and
 * critical violations, and checks no script of a pusher ran.
 */
async function visited(page, label) {
  await page.waitForLoadState('domcontentloaded');
  shot++;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${label.replace(/[^a-z0-9]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await page.evaluate(AXE);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.length === 0,
    `axe on ${label}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`,
  );
  const pwned = await page.evaluate(() => globalThis.__pwned);
  expect(pwned === undefined, `a pusher's script ran on ${label} (__pwned=${pwned})`);
  const size = await page.evaluate(() => document.documentElement.outerHTML.length);
  pageSizes.push({ label, size });
}

async function signIn(context, who) {
  const page = await context.newPage();
  await page.goto(`${BERTH_URL}/-/sign-in`);
  await visited(page, `sign-in-${who}`);
  // From the keyboard: the fields in order, Enter submits.
  await page.focus('#username');
  await page.keyboard.type(who);
  await page.keyboard.press('Tab');
  await page.keyboard.type(passwords[who]);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  expect((await page.textContent('header nav')).includes(who), `${who} is not shown as signed in`);
  return page;
}

async function search(page, q, label) {
  await page.goto(`${BERTH_URL}/`);
  await page.focus('#q');
  await page.keyboard.type(q);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await visited(page, label);
  return page.$$eval('ul.results a.name', (links) => links.map((a) => a.textContent.trim()));
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const newContext = () => browser.newContext({ viewport: { width: 1200, height: 900 } });
const [anonymous, alice, bob, eve] = await Promise.all([newContext(), newContext(), newContext(), newContext()]);
const blockedScripts = [];
for (const context of [anonymous, alice, bob, eve]) {
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) blockedScripts.push(m.text());
  });
}

let alicePage;
let bobPage;
let evePage;
await check('sign in from the keyboard as alice, bob and eve', async () => {
  alicePage = await signIn(alice, 'alice');
  bobPage = await signIn(bob, 'bob');
  evePage = await signIn(eve, 'eve');
});

await check('anonymous and the outsider find nothing of the private packages; the member finds them', async () => {
  const anon = await anonymous.newPage();
  expect((await search(anon, 'acme', 'search-anonymous')).length === 0, 'anonymous found private packages');
  expect((await search(evePage, 'acme/internal', 'search-outsider')).length === 0, 'the outsider found acme/internal');
  const found = await search(bobPage, 'acme', 'search-member');
  expect(found.includes('acme/web') && found.includes('acme/internal'), `the member found ${found.join(', ')}`);
  const hidden = await evePage.goto(`${BERTH_URL}/orgs/acme/packages/container/package/internal`);
  expect(hidden.status() === 404, `the outsider got ${hidden.status()} for acme/internal`);
  await visited(evePage, 'private-package-outsider');
  expect(!(await evePage.content()).includes('internal'), 'the 404 page names the package');
});

await check('the package page: hostile description as text, platforms and the signature and SBOM in the tree', async () => {
  await bobPage.goto(`${BERTH_URL}/orgs/acme/packages/container/package/web`);
  await visited(bobPage, 'package-web-member');
  const description = await bobPage.textContent('p.description');
  expect(description.includes('<script>window.__pwned=1</script>'), `description shown as ${description}`);
  expect(description.includes('"><img src=x onerror=window.__pwned=2>'), 'the img payload is not shown as text');
  expect((await bobPage.$$('img')).length === 0, 'an img element was made from the description');
  const tree = await bobPage.textContent('ul.tree');
  for (const part of ['linux/amd64', 'linux/arm64', 'Signature', 'SBOM', 'multi', '1.0'])
    expect(tree.includes(part), `the tree lacks ${part}`);
  const commit = await bobPage.getAttribute('a[href*="/commit/"]', 'href');
  expect(commit === 'https://github.com/acme/web/commit/0123456789abcdef0123456789abcdef01234567', `commit link ${commit}`);
});

await check('a version page: layers, config with environment names only', async () => {
  await bobPage.goto(`${BERTH_URL}/orgs/acme/packages/container/package/web`);
  const tagged = await bobPage.$$eval('ul.tree > li', (items) =>
    items
      .filter((li) => [...li.querySelectorAll(':scope > span.tag')].some((t) => t.textContent === '1.0'))
      .map((li) => li.querySelector(':scope > a.digest').getAttribute('href')),
  );
  expect(tagged.length === 1, `${tagged.length} versions tagged 1.0 in the tree`);
  await bobPage.goto(`${BERTH_URL}${tagged[0]}`);
  await visited(bobPage, 'version-image');
  const text = await bobPage.textContent('main');
  expect(text.includes('Layers') && text.includes('API_TOKEN') && !text.includes('not-for-the-page'), 'env values or layers wrong');
  expect(text.includes('8080/tcp'), 'exposed port missing');
});

await check('alice makes acme/web public from its settings', async () => {
  await alicePage.goto(`${BERTH_URL}/orgs/acme/packages/container/package/web`);
  await Promise.all([alicePage.waitForNavigation(), alicePage.click('text=Package settings')]);
  await visited(alicePage, 'settings-web');
  await Promise.all([alicePage.waitForNavigation(), alicePage.click('button:has-text("Make public")')]);
  await visited(alicePage, 'settings-web-public');
  expect((await alicePage.textContent('.flash')).includes('visibility was changed'), 'no confirmation');
});

await check('anonymous finds acme/web now, and copies its pull command with the copy button', async () => {
  await anonymous.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BERTH_URL });
  const anon = await anonymous.newPage();
  const found = await search(anon, 'web', 'search-anonymous-public');
  expect(found.includes('acme/web'), `found ${found.join(', ')}`);
  await Promise.all([anon.waitForNavigation(), anon.click('a.name:has-text("acme/web")')]);
  await visited(anon, 'package-web-anonymous');
  await anon.selectOption('#tag-picker', '1.0');
  await anon.focus('button[data-copy="pull-command"]');
  await anon.keyboard.press('Enter');
  await anon.waitForFunction(() => document.querySelector('button[data-copy]').textContent === 'Copied');
  const copied = await anon.evaluate(() => navigator.clipboard.readText());
  expect(copied === (await anon.textContent('#pull-command')), `copied ${copied}`);
  expect(/^docker pull \S+\/acme\/web:1\.0$/.test(copied), `copied ${copied}`);
  writeFileSync(PULL_FILE, copied);
});

await check(
  'live search: typing in the home page box redraws the results from the API, no page load; the address is the linkable search',
  async () => {
    await bobPage.goto(`${BERTH_URL}/`);
    let loads = 0;
    const asked = [];
    const onLoad = () => loads++;
    const onRequest = (r) => r.url().includes('/api/v1/search/packages') && asked.push(r.url());
    bobPage.on('load', onLoad);
    bobPage.on('request', onRequest);
    try {
      const typed = async (q) => {
        await bobPage.fill('#home-q', '');
        await bobPage.focus('#home-q');
        await bobPage.keyboard.type(q, { delay: 40 });
        await bobPage.waitForFunction(
          (want) => location.search === `?q=${want}` && document.querySelector('#search-count').textContent.includes(`for ${want}`),
          q,
        );
        return bobPage.$$eval('#search-results ul.results a.name', (links) => links.map((a) => a.textContent.trim()));
      };
      const internal = await typed('internal');
      expect(internal.length === 1 && internal[0] === 'acme/internal', `live results for internal: ${internal.join(', ')}`);
      expect((await bobPage.inputValue('#q')) === 'internal', 'the header search box does not follow the typed query');
      await visited(bobPage, 'live-search-member');
      const web = await typed('web');
      expect(web.includes('acme/web'), `live results for web: ${web.join(', ')}`);
      const description = await bobPage.textContent('#search-results .description');
      expect(description.includes('<script>window.__pwned=1</script>'), `live description shown as ${description}`);
      expect((await bobPage.$$('#search-results img')).length === 0, 'an img element was made from the description');
      await visited(bobPage, 'live-search-hostile');
      expect(loads === 0, `${loads} page loads while typing`);
      console.log(`# live search: ${asked.length} API requests for 2 queries typed (11 keystrokes)`);
      expect(asked.length <= 4, `${asked.length} API requests for 11 keystrokes`);
      // The address it left is the server's page of the same results.
      await bobPage.reload();
      const linked = await bobPage.$$eval('ul.results a.name', (links) => links.map((a) => a.textContent.trim()));
      expect(JSON.stringify(linked) === JSON.stringify(web), `the linked page lists ${linked.join(', ')}`);
    } finally {
      bobPage.off('load', onLoad);
      bobPage.off('request', onRequest);
    }
  },
);

await check('without script the search box still searches: Enter opens the linkable /search?q=', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(`${BERTH_URL}/`);
    await page.focus('#home-q');
    await page.keyboard.type('web');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).search === '?q=web', `went to ${page.url()}`);
    const names = await page.$$eval('ul.results a.name', (links) => links.map((a) => a.textContent.trim()));
    expect(names.includes('acme/web'), `found ${names.join(', ')}`);
  } finally {
    await context.close();
  }
});

await check('alice creates a token (shown once) and revokes it', async () => {
  await alicePage.goto(`${BERTH_URL}/-/account`);
  await visited(alicePage, 'account');
  await alicePage.focus('#token-name');
  await alicePage.keyboard.type('laptop');
  await Promise.all([alicePage.waitForNavigation(), alicePage.keyboard.press('Enter')]);
  await visited(alicePage, 'account-token-created');
  const token = await alicePage.textContent('#new-token-value');
  expect(/^berth_pat_/.test(token), `token ${token}`);
  const before = await fetch(`${BERTH_URL}/api/v1/user`, { headers: { Authorization: `Bearer ${token}` } });
  expect(before.status === 200, `the new token got ${before.status}`);
  await alicePage.focus('button[aria-label="Revoke token laptop"]');
  await Promise.all([alicePage.waitForNavigation(), alicePage.keyboard.press('Enter')]);
  await visited(alicePage, 'account-token-revoked');
  const after = await fetch(`${BERTH_URL}/api/v1/user`, { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status === 401, `the revoked token got ${after.status}`);
  expect(!(await alicePage.content()).includes(token), 'the token is shown again');
});

await check('alice deletes and restores a version', async () => {
  await alicePage.goto(`${BERTH_URL}/-/settings?package=acme%2Fweb`);
  const row = alicePage.locator('tr', { hasText: '1.0' }).first();
  await Promise.all([alicePage.waitForNavigation(), row.locator('button:has-text("Delete")').click()]);
  await visited(alicePage, 'settings-version-deleted');
  expect((await alicePage.textContent('.flash')).includes('version was deleted'), 'no confirmation of the delete');
  const deleted = alicePage.locator('h2:has-text("Deleted versions") + table tr', { hasText: '1.0' }).first();
  await Promise.all([alicePage.waitForNavigation(), deleted.locator('button:has-text("Restore")').click()]);
  await visited(alicePage, 'settings-version-restored');
  expect((await alicePage.textContent('.flash')).includes('version was restored'), 'no confirmation of the restore');
});

await check('the owner page, with filters', async () => {
  await bobPage.goto(`${BERTH_URL}/orgs/acme/packages?visibility=private`);
  await visited(bobPage, 'org-acme-private');
  const names = await bobPage.$$eval('ul.results a.name', (links) => links.map((a) => a.textContent.trim()));
  expect(names.length === 1 && names[0] === 'acme/internal', `private packages ${names.join(', ')}`);
});

await check('alice adds a webhook for acme from the keyboard, sees the ping in its log, reads it and redelivers it', async () => {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('thanks from the receiver');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  const waitFor = async (count) => {
    for (let i = 0; i < 100 && received.length < count; i++) await new Promise((r) => setTimeout(r, 100));
    expect(received.length >= count, `the receiver got ${received.length} requests, not ${count}`);
  };
  try {
    await alicePage.goto(`${BERTH_URL}/-/account`);
    await Promise.all([alicePage.waitForNavigation(), alicePage.click('a[href="/-/hooks?scope=org%3Aacme"]')]);
    await visited(alicePage, 'hooks-acme-empty');
    await alicePage.focus('#new-hook-url');
    await alicePage.keyboard.type(hookUrl);
    await alicePage.keyboard.press('Tab');
    await alicePage.keyboard.type('a-secret-for-the-receiver');
    await alicePage.focus('button:has-text("Add webhook")');
    await Promise.all([alicePage.waitForNavigation(), alicePage.keyboard.press('Enter')]);
    expect((await alicePage.textContent('.flash')).includes('webhook was created'), 'no confirmation of the new hook');
    await waitFor(1);
    expect(received[0].headers['x-github-event'] === 'ping', `first delivery ${received[0].headers['x-github-event']}`);
    // The log is written once the receiver answered: read the page again until it shows.
    for (let i = 0; i < 50 && !(await alicePage.content()).includes('200 OK'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      await alicePage.reload();
    }
    await visited(alicePage, 'hook-with-ping');
    expect(!(await alicePage.content()).includes('a-secret-for-the-receiver'), 'the secret is shown');
    await Promise.all([alicePage.waitForNavigation(), alicePage.click('a[href*="/deliveries/"]')]);
    await visited(alicePage, 'hook-delivery');
    const delivery = await alicePage.textContent('main');
    expect(delivery.includes(received[0].headers['x-github-delivery']), 'the delivery page lacks the GUID');
    expect(delivery.includes('thanks from the receiver'), 'the delivery page lacks the response');
    await alicePage.focus('button:has-text("Redeliver")');
    await Promise.all([alicePage.waitForNavigation(), alicePage.keyboard.press('Enter')]);
    await waitFor(2);
    expect(received[1].headers['x-github-delivery'] === received[0].headers['x-github-delivery'], 'the redelivery has another GUID');
    for (let i = 0; i < 50 && !(await alicePage.content()).includes('(redelivery)'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      await alicePage.reload();
    }
    await visited(alicePage, 'hook-redelivered');
    expect((await alicePage.textContent('main')).includes('(redelivery)'), 'the redelivery is not in the log');
  } finally {
    receiver.close();
  }
});

report(blockedScripts.length === 0, 'no script was blocked by the CSP (none inline, none injected)', blockedScripts.join('\n'));
writeFileSync(path.join(ARTIFACTS, 'page-sizes.txt'), pageSizes.map(({ label, size }) => `${label}\t${size}\n`).join(''));
await browser.close();
process.exit(failed === 0 ? 0 : 1);
