// Email codes in the browser, on a fresh install with no SMTP host: each message lands in the
// outbox folder of the data directory, where the test reads the code as the user would in their
// mailbox. Enrolment (choose "Email codes", a wrong code, the right one, backup codes), login with
// "Send me a code by email" (one send per 30 s per user and method, enrolment included: the early
// press is refused with 429 and the test waits as long as the page says), and a used code refused.
import { describe, it, before, after } from 'node:test';
import {
  assert, sleep, Server, launchBrowser, newPage, submit, pathOf, expectH1, alertText, noticeText,
  expectText, checkPage, login, enterCode, logout, backupCodesOnPage, BACKUP_CODE, WRONG_CODE,
  outboxFiles, newOutboxCode,
} from './harness.mjs';

const ADDRESS = 'uma@example.com';
const MASKED = 'u•••@example.com';

describe('email codes', () => {
  let server, browser, uma;
  /** When the enrolment code was sent (after its response came back), in ms. */
  let enrolSentAt;
  let enrolCode;
  let loginCode;

  before(async () => {
    server = await Server.start({ name: 'email' });
    browser = await launchBrowser();
    await server.set('methods.email.active', true);
    await server.set('methods.email.clients', true);
    uma = await server.addUser('uma', { email: ADDRESS });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function page(t) {
    const p = await newPage(browser, server);
    t.after(() => p.context().close());
    return p;
  }

  /** A six-digit code that is not `code`. */
  function otherThan(code) {
    return String((Number(code) + 1) % 1e6).padStart(6, '0');
  }

  it('enrolment: Email codes, the code from the mail (a wrong one first), backup codes', async (t) => {
    const p = await page(t);
    let resp = await login(p, uma);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security', 'no 2FA yet: straight to Security Settings');
    await expectText(p, 'Two-factor authentication is off');

    await Promise.all([
      p.waitForNavigation({ waitUntil: 'load' }),
      p.getByRole('link', { name: 'Enable two-factor authentication', exact: true }).click(),
    ]);
    await expectH1(p, 'Choose a service');
    const radio = p.getByLabel('Email codes', { exact: true });
    assert.equal(await radio.getAttribute('value'), 'email');
    await expectText(p, `A 6-digit code sent to ${MASKED} each time you log in.`);
    await radio.check();

    const seen = await outboxFiles(server);
    resp = await submit(p, 'Get Started');
    enrolSentAt = Date.now();
    assert.equal(resp.status(), 200);
    assert.match(pathOf(p), /^\/account\/security\/enroll\/[^/]+$/, 'on the enrolment of the new factor');
    const enrolPath = pathOf(p);
    await expectH1(p, 'Enter the code we sent');
    assert.equal((await p.locator('main strong').first().innerText()).trim(), MASKED);
    await expectText(p, `We sent a 6-digit code to ${MASKED}.`);
    await checkPage(p, 'email-enter-code');

    const mail = await newOutboxCode(server, seen);
    assert.match(mail.text, /^To: uma@example\.com\r?$/m, 'the mail goes to the user');
    assert.match(mail.text, /^Subject: Your .+ verification code\r?$/m, 'the enrolment mail');
    enrolCode = mail.code;

    const field = p.getByLabel('Enter the 6-digit code', { exact: true });
    await field.fill(otherThan(mail.code));
    resp = await submit(p, 'Submit');
    assert.ok(resp.status() >= 400 && resp.status() < 500, `wrong enrolment code → 4xx, got ${resp.status()}`);
    assert.equal(pathOf(p), enrolPath, 'still on the enrolment page');
    await expectH1(p, 'Enter the code we sent');
    assert.equal(await alertText(p), WRONG_CODE);

    // One miss does not spend the code.
    await field.fill(mail.code);
    resp = await submit(p, 'Submit');
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const codes = await backupCodesOnPage(p);
    assert.equal(codes.length, 10, `ten backup codes: ${codes}`);
    for (const c of codes) assert.match(c, BACKUP_CODE);

    await Promise.all([
      p.waitForNavigation({ waitUntil: 'load' }),
      p.getByRole('link', { name: 'Close', exact: true }).click(),
    ]);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
    const rows = await p.locator('#factors tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
    );
    assert.equal(rows.length, 1, `one device: ${JSON.stringify(rows)}`);
    assert.equal(rows[0][1], 'Email codes', `the device's method: ${JSON.stringify(rows[0])}`);
    assert.doesNotMatch(rows[0][0], /not confirmed/);
    await logout(p);
  });

  it('login: "Send me a code by email" (429 within 30 s of the last send), then the code', async (t) => {
    assert.ok(enrolSentAt, 'the enrolment test ran');
    const p = await page(t);
    let resp = await login(p, uma);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/login/2fa');
    await expectH1(p, 'Two-factor authentication');
    await expectText(p, 'Email codes');
    const send = p.getByRole('button', { name: `Send me a code by email (${MASKED})`, exact: true });
    assert.equal(await send.count(), 1, 'one send button, naming the masked address');
    await checkPage(p, '2fa-email');

    const seen = await outboxFiles(server);
    if (Date.now() - enrolSentAt < 25000) {
      // The enrolment code went out moments ago: the send is refused, saying how long to wait.
      resp = await submit(p, send);
      assert.equal(resp.status(), 429);
      const alert = await alertText(p);
      const m = alert.match(/^A code was sent recently\. You can ask for a new one in (\d+) seconds\.$/);
      assert.ok(m, `the throttle alert: ${JSON.stringify(alert)}`);
      const wait = Number(m[1]);
      assert.ok(wait >= 1 && wait <= 30, `the wait (${wait} s) is within the 30 s gap`);
      assert.equal(resp.headers()['retry-after'], String(wait), 'Retry-After says the wait the page shows');
      assert.deepEqual(await outboxFiles(server), seen, 'nothing was sent');
      // Sends are limited to one per 30 s per user and method; wait as long as the page says,
      // plus a second for the server's whole-second clock.
      await sleep((wait + 1) * 1000);
    } else {
      t.diagnostic('more than 25 s since the enrolment send: the early-press check is skipped');
      await sleep(Math.max(0, enrolSentAt + 31000 - Date.now()));
    }

    resp = await submit(p, send);
    assert.equal(resp.status(), 200);
    const notice = await noticeText(p);
    assert.ok(notice.startsWith(`We sent a code to ${MASKED}.`), `the notice: ${JSON.stringify(notice)}`);
    const mail = await newOutboxCode(server, seen);
    assert.match(mail.text, /^To: uma@example\.com\r?$/m);
    assert.match(mail.text, /^Subject: Your .+ login code\r?$/m, 'the login mail');
    loginCode = mail.code;

    resp = await enterCode(p, mail.code);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
  });

  it('a used email code is refused: in the browser, and through the API', async (t) => {
    assert.ok(loginCode, 'the login test ran');
    // A fresh browser: password, then the code that already logged in (no new send, which would
    // need another 30 s wait).
    const p = await page(t);
    await login(p, uma);
    assert.equal(pathOf(p), '/login/2fa');
    const resp = await enterCode(p, loginCode);
    assert.equal(resp.status(), 401, 'a used code is refused');
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(await alertText(p), WRONG_CODE);

    for (const code of [loginCode, enrolCode]) {
      const r = await server.api('POST', '/api/v1/validate', { username: 'uma', code });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.ok, false, `a used code through the API: ${r.text}`);
      assert.equal(r.json.reason, 'invalid_code', r.text);
    }
  });
});
