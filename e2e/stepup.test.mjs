// "Confirm it is you" (step-up): removing a device and getting new backup codes once the sign-in
// is more than 5 minutes old; removing the last device signs out everywhere; the Password and
// Active sessions cards of Security Settings (a password change ends every session, "Sign out"
// one session, "Sign out everywhere"). Instead of waiting 5 minutes, the server is restarted
// "later" (TWOFOLD_TEST_CLOCK_OFFSET moves its clock ahead) on the same port, so open pages carry
// on; the users' authenticator apps follow its clock.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, alertText, noticeText,
  expectText, checkPage, login, loginFull, enterCode, backupCodesOnPage, cookie, BACKUP_CODE,
  WRONG_CODE,
} from './harness.mjs';

/** A user agent the server sums up as "Firefox on Linux" (the default one is "Chrome on Linux"). */
const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const NEW_PASSWORD = 'a different horse, battery and staple';
const STEP_UP_LATER = 400; // seconds; a step-up lasts 300

describe('step-up and sessions', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'stepup' });
    browser = await launchBrowser();
    for (const n of ['erin', 'fay', 'gus', 'hal']) u[n] = await server.addUser(n);
    await server.enrolTotpApi(u.erin, 'phone');
    u.erin.tablet = (await server.enrolTotpApi(u.erin, 'tablet')).totp;
    await server.enrolTotpApi(u.fay, 'phone');
    await server.enrolTotpApi(u.gus, 'phone');
    await server.enrolTotpApi(u.hal, 'phone');
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

  /** Restarts the server STEP_UP_LATER seconds later on its clock (same port, same data). */
  async function later() {
    server = await server.restart({ clockOffset: server.clockOffset + STEP_UP_LATER, samePort: true });
    for (const x of Object.values(u)) {
      for (const app of [x.totp, x.tablet]) if (app) app.offset = server.clockOffset;
    }
  }

  /** The labels of the user's factors, as the server has them. */
  async function factorLabels(name) {
    const r = await server.api('GET', `/api/v1/users/${name}`);
    assert.equal(r.status, 200, r.text);
    return r.json.factors.map((f) => f.label).sort();
  }

  /** Logs in with the password and the user's next unused backup code. */
  async function loginWithBackupCode(p, user) {
    await login(p, user);
    assert.equal(pathOf(p), '/login/2fa', `${user.name} is asked for a second factor`);
    await goto(p, '/login/2fa?backup=1');
    await p.getByLabel('Backup code', { exact: true }).fill(user.backupCodes.shift());
    const resp = await submit(p, 'Verify');
    assert.equal(pathOf(p), '/account/security', `${user.name} is in`);
    return resp;
  }

  /** Whether the page's next load of Security Settings is sent to the login page. */
  async function expectSignedOut(p, who) {
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/login', `${who} is signed out`);
    await expectH1(p, 'Log in');
  }

  const sessionRows = (p) => p.locator('#sessions tbody tr');

  /** The session list as [browser cell text] (whitespace squeezed), in page order. */
  async function sessionBrowsers(p) {
    const cells = await p.locator('#sessions tbody tr td:first-child').allInnerTexts();
    return cells.map((c) => c.replace(/\s+/g, ' ').trim());
  }

  it('a stale step-up: Remove asks to confirm it is you; a wrong code removes nothing; the right one removes the device', async (t) => {
    const p = await page(t);
    await loginFull(p, u.erin);
    assert.equal(pathOf(p), '/account/security');
    // The full sign-in counts as a step-up: no password or code asked on the page.
    assert.equal(await p.locator('#view-password').count(), 0, 'no password to view codes right after sign-in');
    assert.equal(await p.locator('#off-password').count(), 0, 'no password to turn off right after sign-in');
    await expectH1(p, 'Security Settings');
    await checkPage(p, 'security-stepped-up');

    await later();
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/account/security', 'still signed in after the restart');
    // Five minutes on, the forms carry the password and code fields again.
    for (const id of ['#view-password', '#view-code', '#off-password', '#off-code']) {
      assert.ok(await p.locator(id).isVisible(), `${id} shown once the step-up is stale`);
    }
    await checkPage(p, 'security-step-up-fields');

    const rows = p.locator('#factors tbody tr');
    assert.equal(await rows.count(), 2);
    const phoneId = (await server.api('GET', '/api/v1/users/erin')).json.factors.find((f) => f.label === 'phone').id;
    let resp = await submit(p, p.getByRole('button', { name: 'Remove phone', exact: true }));
    assert.equal(resp.status(), 401, 'Remove answers with the step-up page');
    await expectH1(p, 'Confirm it is you');
    await expectText(p, 'To remove a device, enter your password and a current code');
    const pw = p.getByLabel('Password', { exact: true });
    const code = p.getByLabel('A current code or a backup code', { exact: true });
    assert.ok(await pw.isVisible(), 'a Password field');
    assert.ok(await code.isVisible(), 'a code field');
    assert.equal(await p.locator('#step-password').count(), 1);
    assert.equal(await p.locator('#step-code').count(), 1);
    const form = p.locator('form[action="/account/security/step-up"]');
    assert.equal(await form.locator('input[name=action]').inputValue(), 'remove');
    assert.equal(await form.locator('input[name=factor]').inputValue(), phoneId, 'the step-up carries the device to remove');
    await checkPage(p, 'step-up');
    assert.deepEqual(await factorLabels('erin'), ['phone', 'tablet'], 'nothing removed by asking');

    // The right password and a wrong code: refused, with the reason on the page.
    await pw.fill(u.erin.password);
    await code.fill(await u.erin.totp.wrongCode());
    resp = await submit(p, 'Continue');
    assert.equal(resp.status(), 422, 'a wrong code is refused');
    await expectH1(p, 'Confirm it is you');
    assert.equal(await alertText(p), WRONG_CODE);
    assert.ok(await p.locator('[role=alert]').first().isVisible(), 'the error is visible');
    await checkPage(p, 'step-up-wrong-code');
    assert.deepEqual(await factorLabels('erin'), ['phone', 'tablet'], 'a wrong code removes nothing');

    // A wrong password with a right code (the tablet's, so the phone's next codes need no wait):
    // refused too.
    await pw.fill('not the password');
    await code.fill(await u.erin.tablet.code());
    resp = await submit(p, 'Continue');
    assert.equal(resp.status(), 422, 'a wrong password is refused');
    assert.equal(await alertText(p), 'The password is not right.');
    assert.deepEqual(await factorLabels('erin'), ['phone', 'tablet'], 'a wrong password removes nothing');

    // The password and a right code: the device goes.
    await pw.fill(u.erin.password);
    await code.fill(await u.erin.totp.code());
    resp = await submit(p, 'Continue');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    assert.equal(await noticeText(p), 'Device removed.');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /tablet/);
    assert.doesNotMatch(await p.locator('#factors').innerText(), /phone/);
    assert.deepEqual(await factorLabels('erin'), ['tablet']);
    assert.equal((await server.validate('erin', await u.erin.totp.code())).ok, false, "the removed phone's codes are dead");
    assert.equal((await server.validate('erin', await u.erin.tablet.code())).ok, true, "the tablet's codes work");
    // Confirmed now: for the next 5 minutes the page asks for nothing more.
    await goto(p, '/account/security');
    assert.equal(await p.locator('#view-password').count(), 0, 'no password asked right after the step-up');
  });

  it('a stale step-up: Get new codes asks to confirm it is you (a backup code will do); new codes shown, the old ones dead', async (t) => {
    const p = await page(t);
    const old = [...u.fay.backupCodes];
    await loginFull(p, u.fay);
    await later();
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/account/security');

    let resp = await submit(p, 'Get new codes');
    assert.equal(resp.status(), 401, 'Get new codes answers with the step-up page');
    await expectH1(p, 'Confirm it is you');
    await expectText(p, 'To get new backup codes, enter your password and a current code');
    assert.equal(await backupCodesOnPage(p).then((c) => c.length), 0, 'no codes before the step-up');
    const pw = p.getByLabel('Password', { exact: true });
    const code = p.getByLabel('A current code or a backup code', { exact: true });

    // A wrong code: refused; the old codes are still the codes.
    await pw.fill(u.fay.password);
    await code.fill(await u.fay.totp.wrongCode());
    resp = await submit(p, 'Continue');
    assert.equal(resp.status(), 422);
    assert.equal(await alertText(p), WRONG_CODE);
    assert.equal(await backupCodesOnPage(p).then((c) => c.length), 0, 'no codes shown');
    assert.deepEqual(await server.validate('fay', old[9]), { ok: true, method: 'backup_code' }, 'the old codes still work');

    // The password and one of the old backup codes.
    await pw.fill(u.fay.password);
    await code.fill(old[0]);
    resp = await submit(p, 'Continue');
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const fresh = await backupCodesOnPage(p);
    assert.equal(fresh.length, 10);
    for (const c of fresh) assert.match(c, BACKUP_CODE);
    assert.equal(new Set(fresh).size, 10);
    assert.equal(fresh.filter((c) => old.includes(c)).length, 0, 'all codes are new');
    const view = (await server.api('GET', '/api/v1/users/fay')).json;
    assert.equal(view.backup_codes_remaining, 10, 'ten unused codes on the server');

    // The old codes are dead (API), a new one works; a later login refuses an old code.
    assert.equal((await server.validate('fay', old[1])).ok, false, 'an old code is dead');
    assert.deepEqual(await server.validate('fay', fresh[0]), { ok: true, method: 'backup_code' });
    const p2 = await page(t);
    await login(p2, u.fay);
    await goto(p2, '/login/2fa?backup=1');
    await p2.getByLabel('Backup code', { exact: true }).fill(old[2]);
    resp = await submit(p2, 'Verify');
    assert.equal(resp.status(), 401, 'an old code does not log in');
    assert.equal(await alertText(p2), WRONG_CODE);
    await goto(p2, '/login/2fa?backup=1');
    await p2.getByLabel('Backup code', { exact: true }).fill(fresh[1]);
    await submit(p2, 'Verify');
    assert.equal(pathOf(p2), '/account/security', 'a new code logs in');
    u.fay.backupCodes = fresh.slice(2);
  });

  it('removing the last device signs out every session, this browser included', async (t) => {
    const a = await page(t);
    const b = await page(t);
    await loginFull(a, u.gus);
    await loginFull(b, u.gus);
    await goto(a, '/account/security');
    assert.equal(await sessionRows(a).count(), 2, 'both sessions listed');
    // Just signed in: Remove needs no step-up.
    const resp = await submit(a, a.getByRole('button', { name: 'Remove phone', exact: true }));
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(a), '/login');
    assert.equal(new URL(a.url()).searchParams.get('notice'), 'last_device_removed');
    assert.equal(await noticeText(a), 'Device removed. That was your last one, so every session signed out. Log in again.');
    assert.deepEqual(await factorLabels('gus'), []);
    await expectSignedOut(a, 'this browser');
    await expectSignedOut(b, 'the other browser');
    await login(b, u.gus);
    assert.equal(pathOf(b), '/account/security', 'no second factor asked any more');
    await expectText(b, 'Two-factor authentication is off');
  });

  it('sessions: both browsers listed; a password change signs both out; Sign out one; Sign out everywhere', async (t) => {
    const a = await page(t, { userAgent: FIREFOX_UA });
    const b = await page(t);
    await loginFull(a, u.hal);
    // A full sign-in sets the device cookie: HttpOnly, SameSite=Lax, for a year.
    const device = await cookie(a, 'tf_device');
    assert.ok(device, 'a tf_device cookie after the sign-in');
    assert.equal(device.httpOnly, true);
    assert.equal(device.sameSite, 'Lax');
    const year = 365 * 24 * 3600;
    assert.ok(Math.abs(device.expires - (Date.now() / 1000 + year)) < 2 * 24 * 3600, `tf_device lasts a year (expires ${device.expires})`);
    await loginFull(b, u.hal);

    await goto(a, '/account/security');
    let listed = (await sessionBrowsers(a)).sort();
    assert.deepEqual(listed, ['Chrome on Linux', 'Firefox on Linux (this browser)'], 'two sessions; this one marked');
    assert.equal(await a.locator('#sessions tbody tr', { hasText: '(this browser)' }).count(), 1);
    assert.ok(await a.getByRole('button', { name: 'Sign out Firefox on Linux (this browser)', exact: true }).isVisible());
    assert.ok(await a.getByRole('button', { name: 'Sign out Chrome on Linux', exact: true }).isVisible());
    for (const ip of await a.locator('#sessions tbody tr td:nth-child(2)').allInnerTexts()) assert.equal(ip.trim(), '127.0.0.1');
    await checkPage(a, 'security-sessions');
    await goto(b, '/account/security');
    assert.deepEqual((await sessionBrowsers(b)).sort(), ['Chrome on Linux (this browser)', 'Firefox on Linux'], 'the other browser sees itself marked');

    // Password change: a wrong current password and a mismatch are refused, nobody signed out.
    const changePassword = async (current, next, again) => {
      await a.getByLabel('Current password', { exact: true }).fill(current);
      await a.getByLabel('New password', { exact: true }).fill(next);
      await a.getByLabel('New password again', { exact: true }).fill(again);
      return submit(a, 'Change password');
    };
    let resp = await changePassword('not the password', NEW_PASSWORD, NEW_PASSWORD);
    assert.equal(resp.status(), 422);
    assert.equal(await alertText(a), 'Your current password is not right.');
    resp = await changePassword(u.hal.password, NEW_PASSWORD, NEW_PASSWORD + '!');
    assert.equal(resp.status(), 422);
    assert.equal(await alertText(a), 'The new passwords do not match.');
    await goto(b, '/account/security');
    assert.equal(pathOf(b), '/account/security', 'refused changes sign nobody out');

    await goto(a, '/account/security');
    resp = await changePassword(u.hal.password, NEW_PASSWORD, NEW_PASSWORD);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(a), '/login');
    assert.equal(new URL(a.url()).searchParams.get('notice'), 'password_changed');
    assert.equal(await noticeText(a), 'Your password was changed, and every session signed out. Log in with the new password.');
    await checkPage(a, 'login-password-changed');
    await expectSignedOut(a, 'the browser that changed the password');
    await expectSignedOut(b, 'the other browser');

    // The old password is refused; the new one works; one session is left, this one.
    resp = await login(a, u.hal);
    assert.equal(pathOf(a), '/login', 'the old password no longer logs in');
    assert.ok(resp.status() >= 400, `old password → ${resp.status()}`);
    u.hal.password = NEW_PASSWORD;
    await loginWithBackupCode(a, u.hal);
    assert.deepEqual(await sessionBrowsers(a), ['Firefox on Linux (this browser)'], 'exactly one session after the change');

    // "Sign out" of the other browser's session.
    await loginWithBackupCode(b, u.hal);
    await goto(a, '/account/security');
    assert.equal(await sessionRows(a).count(), 2);
    resp = await submit(a, a.getByRole('button', { name: 'Sign out Chrome on Linux', exact: true }));
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(a), '/account/security', 'this browser stays signed in');
    assert.equal(await noticeText(a), 'That session was signed out.');
    assert.deepEqual(await sessionBrowsers(a), ['Firefox on Linux (this browser)']);
    await expectSignedOut(b, 'the browser signed out from the list');

    // "Sign out everywhere".
    await loginWithBackupCode(b, u.hal);
    await goto(a, '/account/security');
    listed = (await sessionBrowsers(a)).sort();
    assert.deepEqual(listed, ['Chrome on Linux', 'Firefox on Linux (this browser)']);
    resp = await submit(a, 'Sign out everywhere');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(a), '/login');
    assert.equal(new URL(a.url()).searchParams.get('notice'), 'signed_out_everywhere');
    assert.equal(await noticeText(a), 'You have signed out everywhere. Log in again.');
    await expectSignedOut(a, 'this browser');
    await expectSignedOut(b, 'the other browser');

    // "Sign out" of this browser's own row is a logout.
    await loginWithBackupCode(a, u.hal);
    resp = await submit(a, a.getByRole('button', { name: 'Sign out Firefox on Linux (this browser)', exact: true }));
    assert.equal(pathOf(a), '/login');
    assert.equal(await noticeText(a), 'You have logged out.');
    await expectSignedOut(a, 'this browser, after signing its own row out');
    // Signing in again still works, with the new password and a TOTP code.
    await loginFull(b, u.hal);
    assert.deepEqual(await sessionBrowsers(b), ['Chrome on Linux (this browser)']);
  });
});
