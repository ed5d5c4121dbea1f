// First run: the setup link that `serve` prints creates the owner, once; the link dies after use.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, alertText, noticeText,
  expectText, checkPage, login, PASSWORD,
} from './harness.mjs';

describe('first run', () => {
  let server, browser;
  before(async () => {
    server = await Server.start({ name: 'first-run' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the server answers /healthz and prints a setup link on a fresh data dir', async () => {
    const res = await fetch(server.url + '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.match(server.setupUrl, /^http:\/\/127\.0\.0\.1:\d+\/setup\/\S+$/);
  });

  it('an unknown setup token is a 404 page', async (t) => {
    const page = await newPage(browser, server);
    t.after(() => page.context().close());
    const resp = await goto(page, '/setup/not-a-real-token');
    assert.equal(resp.status(), 404);
    await expectText(page, 'This setup link is no longer valid.');
  });

  it('the setup link creates the owner once, then dies', async (t) => {
    const page = await newPage(browser, server);
    t.after(() => page.context().close());
    let resp = await goto(page, server.setupUrl);
    assert.equal(resp.status(), 200);
    await expectH1(page, 'Create the owner account');
    await checkPage(page, 'setup');

    // Mismatched passwords are refused and create nothing.
    await page.getByLabel('Username', { exact: true }).fill('root');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD + 'x');
    resp = await submit(page, 'Create owner account');
    assert.ok(resp.status() >= 400 && resp.status() < 500, `mismatch → 4xx, got ${resp.status()}`);
    assert.ok((await alertText(page)).length > 0, 'an error is shown');
    const none = await server.cli(['user', 'show', 'root', '--json'], { allowFail: true });
    assert.notEqual(none.code, 0, 'no owner was created by the refused form');

    // The link still works after a refused attempt.
    await goto(page, server.setupUrl);
    await page.getByLabel('Username', { exact: true }).fill('root');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    const email = page.getByLabel(/email/i);
    if (await email.count()) await email.first().fill('root@example.com');
    resp = await submit(page, 'Create owner account');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(page), '/login');
    assert.equal(await noticeText(page), 'Owner account created. Log in.');

    const owner = await server.userJson('root');
    assert.equal((owner.user ?? owner).role, 'owner');

    // Used: the link is dead.
    resp = await goto(page, server.setupUrl);
    assert.equal(resp.status(), 404);
    await expectText(page, 'This setup link is no longer valid.');

    // A replayed POST to the used link creates nothing either.
    const replay = await page.context().request.post(server.setupUrl, {
      form: { username: 'root2', password: PASSWORD, password2: PASSWORD, csrf: 'x' },
      maxRedirects: 0,
    });
    assert.ok(replay.status() >= 400, `POST to a used link → ${replay.status()}`);
    const r2 = await server.cli(['user', 'show', 'root2', '--json'], { allowFail: true });
    assert.notEqual(r2.code, 0, 'no second owner');
  });

  it('the new owner logs in and lands on Security Settings', async (t) => {
    const page = await newPage(browser, server);
    t.after(() => page.context().close());
    const resp = await login(page, { name: 'root', password: PASSWORD });
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(page), '/account/security');
    await expectH1(page, 'Security Settings');
    await expectText(page, 'Two-factor authentication is off');
  });

  it('a restart with an owner prints no setup link', async () => {
    // Independent of the page test above: make sure an owner exists.
    const exists = await server.cli(['user', 'show', 'root', '--json'], { allowFail: true });
    if (exists.code !== 0) await server.addUser('root', { role: 'owner' });
    server = await server.restart();
    const res = await fetch(server.url + '/healthz');
    assert.equal(res.status, 200);
    assert.equal(server.setupUrl, undefined, `setup link printed again:\n${server.stdout}`);
  });
});
