// Remembered browsers: with `remember.days` set, the second-factor page offers "Remember this
// browser for N days"; ticked, the next sign-in in that browser asks only for the password.
// Security Settings lists the browser under "Remembered browsers"; "Forget" brings the code back.
// Another browser (its own context) is asked for the code all along.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, noticeText, expectText,
  expectNoText, checkPage, login, enterCode, logout, cookie,
} from './harness.mjs';

describe('remembered browsers', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'remember' });
    browser = await launchBrowser();
    await server.set('remember.days', 30);
    u.rosa = await server.addUser('rosa');
    await server.enrolTotpApi(u.rosa, 'phone');
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

  it('ticked, the next sign-in asks only for the password; Forget brings the code back', async (t) => {
    const p = await page(t);
    let resp = await login(p, u.rosa);
    assert.equal(pathOf(p), '/login/2fa');
    const box = p.getByLabel('Remember this browser for 30 days', { exact: true });
    assert.equal(await box.isChecked(), false, 'not ticked unless asked');
    await checkPage(p, 'remember-second-factor');
    await box.check();
    resp = await enterCode(p, await u.rosa.totp.code());
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    const remembered = await cookie(p, 'tf_remember');
    assert.ok(remembered, 'the tf_remember cookie is set');
    assert.equal(remembered.httpOnly, true);
    assert.equal(remembered.sameSite, 'Lax');
    assert.equal(remembered.path, '/');
    const days = (remembered.expires - Date.now() / 1000) / 86400;
    assert.ok(days > 29.9 && days <= 30, `kept for 30 days, not ${days}`);

    // Signed out and in again: no code is asked.
    await logout(p);
    assert.equal(pathOf(p), '/login');
    resp = await login(p, u.rosa);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security', 'straight in after the password');
    await expectH1(p, 'Security Settings');

    // Another browser is asked for the code, and sees the remembered one (not as its own).
    const other = await page(t);
    await login(other, u.rosa);
    assert.equal(pathOf(other), '/login/2fa');
    await enterCode(other, await u.rosa.totp.code());
    assert.equal(pathOf(other), '/account/security');
    assert.equal(await cookie(other, 'tf_remember'), undefined, 'not ticked, not remembered');
    assert.equal(await other.locator('#browsers tbody tr').count(), 1);
    assert.equal(await other.locator('#browsers').getByText('(this browser)').count(), 0);

    // Security Settings lists it, as this browser.
    await goto(p, '/account/security');
    await expectText(p, 'Remembered browsers');
    const rows = p.locator('#browsers tbody tr');
    assert.equal(await rows.count(), 1);
    await expectText(p, '(this browser)');
    assert.match(await rows.first().innerText(), /Chrom(e|ium) on Linux/);
    await checkPage(p, 'remember-security');

    // Forget: the list is empty, the cookie is gone, and the next sign-in asks for the code.
    resp = await submit(p, rows.first().getByRole('button', { name: /^Forget / }));
    assert.equal(resp.status(), 200);
    assert.equal(
      await noticeText(p),
      'That browser is forgotten: its next sign-in asks for the second factor again.',
    );
    assert.equal(await p.locator('#browsers').count(), 0);
    await expectText(p, 'No browser is remembered.');
    assert.equal(await cookie(p, 'tf_remember'), undefined, 'its cookie went with it');
    await logout(p);
    await login(p, u.rosa);
    assert.equal(pathOf(p), '/login/2fa', 'the code is asked again');
    await expectH1(p, 'Two-factor authentication');

    // The other browser's page no longer lists it either.
    await goto(other, '/account/security');
    assert.equal(await other.locator('#browsers').count(), 0);
  });

  it('not offered while remember.days is 0', async (t) => {
    await server.set('remember.days', 0);
    t.after(() => server.set('remember.days', 30));
    const p = await page(t);
    // Settings changed by another process (the CLI) apply within a few seconds.
    for (let i = 0; i < 40; i++) {
      await login(p, u.rosa);
      assert.equal(pathOf(p), '/login/2fa');
      if ((await p.getByText('Remember this browser').count()) === 0) break;
      await p.context().clearCookies();
      await new Promise((r) => setTimeout(r, 250));
    }
    await expectNoText(p, 'Remember this browser');
  });
});
