// Login: username + password → second-factor page (a code, or "Use a backup code") → in. Wrong
// codes, the server's UTC time, the clock warning, `next=`, and a user with several methods (an
// app and email codes from the outbox) who may use either, email only while it is enabled.
import { describe, it, before, after } from 'node:test';
import {
  assert, sleep, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, alertText,
  noticeText, expectText, expectNoText, expectServerTime, checkPage, login, enterCode, logout,
  outboxFiles, newOutboxCode, WRONG_CODE,
} from './harness.mjs';

const EMMA = 'emma@example.com';
const EMMA_MASKED = 'e•••@example.com';

describe('login', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'login' });
    browser = await launchBrowser();
    u.nora = await server.addUser('nora');
    u.tina = await server.addUser('tina');
    u.bea = await server.addUser('bea');
    u.cleo = await server.addUser('cleo');
    u.nick = await server.addUser('nick');
    await server.enrolTotpApi(u.tina, 'work phone');
    await server.enrolTotpApi(u.bea, 'phone');
    await server.enrolTotpApi(u.cleo, 'phone');
    await server.enrolTotpApi(u.nick, 'phone');
    // Emma has an app and email codes (enrolled through the API, the code read from the outbox).
    await server.set('methods.email.active', true);
    await server.set('methods.email.clients', true);
    u.emma = await server.addUser('emma', { email: EMMA });
    await server.enrolTotpApi(u.emma, 'phone');
    const seen = await outboxFiles(server);
    const made = await server.api('POST', '/api/v1/users/emma/factors', { kind: 'email', label: 'mailbox' });
    assert.equal(made.status, 201, made.text);
    u.emma.emailSentAt = Date.now();
    const mail = await newOutboxCode(server, seen);
    const conf = await server.api('POST', `/api/v1/users/emma/factors/${made.json.id}/confirm`, { code: mail.code });
    assert.equal(conf.status, 200, conf.text);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function page(t, opts) {
    const p = await newPage(browser, server, opts);
    t.after(() => p.context().close());
    return p;
  }

  it('the login page', async (t) => {
    const p = await page(t);
    const resp = await goto(p, '/login');
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Log in');
    await p.getByLabel('Username', { exact: true }).waitFor();
    assert.equal(await p.getByLabel('Password', { exact: true }).getAttribute('type'), 'password');
    await checkPage(p, 'login');
  });

  it('a user without 2FA goes straight to Security Settings', async (t) => {
    const p = await page(t);
    const resp = await login(p, u.nora);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectH1(p, 'Security Settings');
    await expectText(p, 'Two-factor authentication is off');
    await checkPage(p, 'security-off');
  });

  it('a wrong password and an unknown user get the same 401 answer', async (t) => {
    const p = await page(t);
    let resp = await login(p, u.nora, { password: 'not the password' });
    assert.equal(resp.status(), 401);
    assert.equal(pathOf(p), '/login');
    const wrongPassword = await alertText(p);
    assert.equal(wrongPassword, 'Incorrect username or password.');
    resp = await login(p, { name: 'nobody-here', password: 'whatever password' });
    assert.equal(resp.status(), 401);
    assert.equal(await alertText(p), wrongPassword);
  });

  it('password then a TOTP code; a wrong code shows the message and the server time', async (t) => {
    const p = await page(t);
    let resp = await login(p, u.tina);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/login/2fa');
    await expectH1(p, 'Two-factor authentication');
    await expectText(p, /Time Based Tokens|authenticator|work phone/i);
    const code = p.getByLabel('Authentication code', { exact: true });
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.equal(await p.getByRole('link', { name: 'Use a backup code' }).count(), 1);
    await checkPage(p, '2fa');

    resp = await enterCode(p, await u.tina.totp.wrongCode());
    assert.equal(resp.status(), 401);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(await alertText(p), WRONG_CODE);
    await expectServerTime(p);
    await checkPage(p, '2fa-wrong-code');

    resp = await enterCode(p, await u.tina.totp.code());
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
    const factors = p.locator('#factors');
    assert.match(await factors.innerText(), /work phone/);
    await checkPage(p, 'security-on');
  });

  it('a used TOTP code does not work twice', async (t) => {
    const p = await page(t);
    await login(p, u.nick);
    const c = await u.nick.totp.code();
    let resp = await enterCode(p, c);
    assert.equal(pathOf(p), '/account/security');
    await logout(p);
    await login(p, u.nick);
    resp = await enterCode(p, c);
    assert.equal(resp.status(), 401, 'a replayed code is refused');
    assert.equal(await alertText(p), WRONG_CODE);
  });

  it('"Use a backup code": each backup code works once; case, spaces and dashes do not matter', async (t) => {
    const p = await page(t);
    const [first, second] = u.bea.backupCodes;
    await login(p, u.bea);
    assert.equal(pathOf(p), '/login/2fa');
    await Promise.all([p.waitForNavigation(), p.getByRole('link', { name: 'Use a backup code' }).click()]);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(new URL(p.url()).searchParams.get('backup'), '1');
    await checkPage(p, '2fa-backup');
    await p.getByLabel('Backup code', { exact: true }).fill(` ${first.toUpperCase().replace('-', ' - ')} `);
    let resp = await submit(p, 'Verify');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');

    await logout(p);
    await login(p, u.bea);
    await goto(p, '/login/2fa?backup=1');
    await p.getByLabel('Backup code', { exact: true }).fill(first);
    resp = await submit(p, 'Verify');
    assert.equal(resp.status(), 401, 'a used backup code is refused');
    assert.equal(await alertText(p), WRONG_CODE);
    await goto(p, '/login/2fa?backup=1');
    await p.getByLabel('Backup code', { exact: true }).fill(second.replace('-', ''));
    resp = await submit(p, 'Verify');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
  });

  it('a local next= is followed after the second factor', async (t) => {
    const p = await page(t);
    await login(p, u.tina, { next: '/account/security/enroll' });
    assert.equal(pathOf(p), '/login/2fa');
    const resp = await enterCode(p, await u.tina.totp.code());
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security/enroll');
  });

  it('a local next= is followed without 2FA too', async (t) => {
    const p = await page(t);
    await login(p, u.nora, { next: '/account/security/enroll' });
    assert.equal(pathOf(p), '/account/security/enroll');
  });

  it('an off-site next= is refused', async (t) => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'http:evil.example', 'javascript:alert(1)']) {
      const p = await newPage(browser, server);
      try {
        const resp = await login(p, u.nora, { next });
        const origin = new URL(p.url()).origin;
        assert.equal(origin, server.url, `next=${next} led off-site to ${p.url()}`);
        assert.equal(resp.status(), 200, `next=${next}`);
        assert.equal(pathOf(p), '/account/security', `next=${next} → ${p.url()}`);
      } finally {
        await p.context().close();
      }
    }
  });

  it('the 2FA page warns when the browser clock is 5 minutes off, and not when it is right', async (t) => {
    for (const shift of [5 * 60 * 1000, -5 * 60 * 1000]) {
      const p = await page(t, { clockShiftMs: shift });
      await login(p, u.cleo);
      assert.equal(pathOf(p), '/login/2fa');
      const warning = p.locator('#clock-warning');
      await warning.waitFor({ state: 'visible' });
      assert.match(await warning.innerText(), /clock/i);
      if (shift > 0) await checkPage(p, '2fa-clock-warning');
    }
    const p = await page(t);
    await login(p, u.cleo);
    assert.equal(pathOf(p), '/login/2fa');
    const warning = p.locator('#clock-warning');
    await warning.waitFor({ state: 'attached' });
    await p.waitForTimeout(500);
    assert.equal(await warning.isVisible(), false, 'no clock warning with a correct clock');
  });

  /** The second-factor page's list of the user's methods. */
  async function methodsListed(p) {
    return (await p.locator('main ul li').allInnerTexts()).map((s) => s.trim());
  }

  function sendByEmail(p) {
    return p.getByRole('button', { name: /^Send me a code by email/ });
  }

  it('several methods: the page offers each (an app, "Send me a code by email"), and either logs in', async (t) => {
    const p = await page(t);
    await login(p, u.emma);
    assert.equal(pathOf(p), '/login/2fa');
    assert.deepEqual(await methodsListed(p), ['Time Based Tokens (phone)', 'Email codes (mailbox)']);
    assert.equal(await sendByEmail(p).count(), 1, 'one "Send me a code by email" button');
    assert.equal(
      (await sendByEmail(p).innerText()).trim(),
      `Send me a code by email (${EMMA_MASKED})`,
      'the button names the masked address',
    );
    await expectText(p, 'The 6-digit code your authenticator app shows now. Or enter the 6-digit code we sent you.');
    await checkPage(p, '2fa-several-methods');

    // With the app.
    let resp = await enterCode(p, await u.emma.totp.code());
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await logout(p);

    // With a code by email (one send per 30 s, the enrolment's included).
    await login(p, u.emma);
    assert.equal(pathOf(p), '/login/2fa');
    await sleep(Math.max(0, u.emma.emailSentAt + 31000 - Date.now()));
    const seen = await outboxFiles(server);
    resp = await submit(p, sendByEmail(p));
    assert.equal(resp.status(), 200);
    assert.ok((await noticeText(p)).startsWith(`We sent a code to ${EMMA_MASKED}.`));
    const mail = await newOutboxCode(server, seen);
    assert.match(mail.text, /^To: emma@example\.com\r?$/m);
    resp = await enterCode(p, mail.code);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
  });

  it('with email codes off for clients, the email option disappears and the app still logs in', async (t) => {
    await server.set('methods.email.clients', false);
    t.after(() => server.set('methods.email.clients', true));
    const p = await page(t);
    await login(p, u.emma);
    assert.equal(pathOf(p), '/login/2fa');
    assert.deepEqual(await methodsListed(p), ['Time Based Tokens (phone)']);
    assert.equal(await sendByEmail(p).count(), 0, 'no "Send me a code by email"');
    await expectNoText(p, 'Email codes');
    await expectNoText(p, 'we sent you');
    const resp = await enterCode(p, await u.emma.totp.code());
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
  });
});
