// Security Settings: enable 2FA (choose a service → QR code and secret → code → backup codes with
// copy and download → Close), a second device, removing one, turning 2FA off, viewing backup codes
// and getting new ones. A full sign-in counts as "Confirm it is you" for 5 minutes; the tests that
// need the password and code asked again restart the server "later" (its clock moved ahead).
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, alertText, noticeText,
  expectText, checkPage, login, loginFull, logout, enrolTotpUi, backupCodesOnPage, BACKUP_CODE,
  downloadText, WRONG_CODE,
} from './harness.mjs';

describe('security settings', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'account' });
    browser = await launchBrowser();
    for (const n of ['alice', 'bob', 'carl', 'dana']) u[n] = await server.addUser(n);
    await server.enrolTotpApi(u.bob, 'old phone');
    await server.enrolTotpApi(u.carl, 'phone');
    await server.enrolTotpApi(u.dana, 'phone');
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

  /**
   * Restarts the server `seconds` later on its clock, on the same port so open pages carry on:
   * a step-up given before is then more than 5 minutes old. The users' apps follow its clock.
   */
  async function later(seconds = 400) {
    server = await server.restart({ clockOffset: server.clockOffset + seconds, samePort: true });
    for (const x of Object.values(u)) if (x.totp) x.totp.offset = server.clockOffset;
  }

  it('enable 2FA: QR code and secret, code, backup codes (copy, download), Close', async (t) => {
    const p = await page(t, { permissions: ['clipboard-read', 'clipboard-write'] });
    await loginFull(p, u.alice);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is off');
    await Promise.all([p.waitForNavigation(), p.getByRole('link', { name: 'Enable two-factor authentication' }).click()]);
    assert.equal(pathOf(p), '/account/security/enroll');
    assert.equal(await p.getByLabel('Device name', { exact: true }).inputValue(), 'Authenticator app');
    const enrolled = await enrolTotpUi(p, { label: 'work phone', shots: 'enroll', server, wrongFirst: true });
    assert.match(enrolled.otpauth.label, /alice/, 'the otpauth label names the user');
    assert.equal(enrolled.resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const codes = await backupCodesOnPage(p);
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, BACKUP_CODE);
    assert.equal(new Set(codes).size, 10);
    await checkPage(p, 'backup-codes');

    await p.locator('#copy-codes').click();
    await p.getByText('Copied').first().waitFor({ state: 'visible' });
    const clip = await p.evaluate(() => navigator.clipboard.readText());
    for (const c of codes) assert.ok(clip.includes(c), `clipboard has ${c}`);

    const [download] = await Promise.all([p.waitForEvent('download'), p.locator('#download-codes').click()]);
    assert.match(download.suggestedFilename(), /\.txt$/);
    const text = await downloadText(download);
    for (const c of codes) assert.ok(text.includes(c), `download has ${c}`);

    await Promise.all([p.waitForNavigation(), p.getByRole('link', { name: 'Close', exact: true }).click()]);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
    assert.match(await p.locator('#factors').innerText(), /work phone/);

    // The codes shown are real: one of them logs in, and so does the app.
    u.alice.totp = enrolled.totp;
    assert.deepEqual(await server.validate('alice', codes[9]), { ok: true, method: 'backup_code' });
    await logout(p);
    await loginFull(p, u.alice);
    assert.equal(pathOf(p), '/account/security');
  });

  it('add a second device with its own label, then remove one', async (t) => {
    const p = await page(t);
    await loginFull(p, u.bob);
    await Promise.all([p.waitForNavigation(), p.getByRole('link', { name: 'Add another device' }).click()]);
    assert.equal(pathOf(p), '/account/security/enroll');
    const tablet = await enrolTotpUi(p, { label: 'tablet', server });
    assert.equal(tablet.resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    assert.equal(await noticeText(p), 'Device added.');
    const rows = p.locator('#factors tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await p.locator('#factors').innerText(), /old phone[\s\S]*tablet|tablet[\s\S]*old phone/);

    const oldRow = rows.filter({ hasText: 'old phone' });
    await submit(p, oldRow.getByRole('button', { name: 'Remove' }));
    await goto(p, '/account/security');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /tablet/);
    await expectText(p, 'Two-factor authentication is on');

    // The removed device's codes no longer work; the tablet's do.
    const oldTotp = u.bob.totp;
    assert.equal((await server.validate('bob', await oldTotp.code())).ok, false);
    u.bob.totp = tablet.totp;
    await logout(p);
    await loginFull(p, u.bob);
  });

  it('turn 2FA off: the password and a current code are needed', async (t) => {
    const p = await page(t);
    // In with a backup code, so that the two TOTP codes below need no wait for a later step.
    await login(p, u.carl);
    await goto(p, '/login/2fa?backup=1');
    await p.getByLabel('Backup code', { exact: true }).fill(u.carl.backupCodes[0]);
    await submit(p, 'Verify');
    assert.equal(pathOf(p), '/account/security');
    const form = p.locator('form[action="/account/security/disable"]');
    // The sign-in just confirmed it is carl: the form asks for nothing more...
    assert.equal(await form.locator('input[name=password]').count(), 0, 'no password field right after sign-in');
    assert.equal(await form.locator('input[name=code]').count(), 0, 'no code field right after sign-in');
    // ...but 5 minutes later it does.
    await later();
    await goto(p, '/account/security');
    await expectText(p, 'Two-factor authentication is on');
    await form.locator('input[name=password]').fill(u.carl.password);
    await form.locator('input[name=code]').fill(await u.carl.totp.wrongCode());
    let resp = await submit(p, form.getByRole('button', { name: 'Turn off two-factor authentication' }));
    assert.ok(resp.status() >= 400, `a wrong code is refused (status ${resp.status()})`);
    assert.equal(await alertText(p), WRONG_CODE);
    await expectH1(p, 'Confirm it is you');
    await goto(p, '/account/security');
    await expectText(p, 'Two-factor authentication is on');

    await form.locator('input[name=password]').fill('wrong password');
    await form.locator('input[name=code]').fill(await u.carl.totp.code());
    resp = await submit(p, form.getByRole('button', { name: 'Turn off two-factor authentication' }));
    assert.ok(resp.status() >= 400, `a wrong password is refused (status ${resp.status()})`);
    await goto(p, '/account/security');
    await expectText(p, 'Two-factor authentication is on');

    await form.locator('input[name=password]').fill(u.carl.password);
    await form.locator('input[name=code]').fill(await u.carl.totp.code());
    resp = await submit(p, form.getByRole('button', { name: 'Turn off two-factor authentication' }));
    // Turning it off signs carl out everywhere, this browser included.
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/login');
    assert.equal(new URL(p.url()).searchParams.get('notice'), 'twofa_off_signed_out');
    assert.equal(await noticeText(p), 'Two-factor authentication is off, and every session signed out. Log in again.');
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/login', 'the session ended');
    assert.equal((await server.userJson('carl')).has_2fa, false);
    await login(p, u.carl);
    assert.equal(pathOf(p), '/account/security', 'no second factor asked any more');
    await expectText(p, 'Two-factor authentication is off');
  });

  it('view backup codes (password needed; used ones marked); get new codes (old ones die)', async (t) => {
    const p = await page(t);
    const old = u.dana.backupCodes;
    await login(p, u.dana);
    await goto(p, '/login/2fa?backup=1');
    await p.getByLabel('Backup code', { exact: true }).fill(old[0]);
    await submit(p, 'Verify');
    assert.equal(pathOf(p), '/account/security');

    const view = p.locator('form[action="/account/security/backup-codes/view"]');
    // The sign-in just confirmed it is dana; 5 minutes later the password (and a code) are asked.
    assert.equal(await view.locator('input[name=password]').count(), 0, 'no password field right after sign-in');
    await later();
    await goto(p, '/account/security');
    await view.locator('input[name=password]').fill('wrong password');
    await view.locator('input[name=code]').fill(await u.dana.totp.code());
    let resp = await submit(p, view.getByRole('button', { name: 'View backup codes' }));
    assert.ok(resp.status() >= 400, `a wrong password is refused (status ${resp.status()})`);
    await expectH1(p, 'Confirm it is you');
    assert.equal(await backupCodesOnPage(p).then((c) => c.length), 0, 'no codes shown');
    await goto(p, '/account/security');
    await view.locator('input[name=password]').fill(u.dana.password);
    // A TOTP code, so that the only used backup code stays the one of the sign-in.
    await view.locator('input[name=code]').fill(await u.dana.totp.code());
    resp = await submit(p, view.getByRole('button', { name: 'View backup codes' }));
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Your backup codes');
    const shown = await backupCodesOnPage(p);
    assert.deepEqual([...shown].sort(), [...old].sort());
    const used = await p.locator('#backup-codes li.used').allInnerTexts();
    assert.deepEqual(used.map((s) => s.trim()), [old[0]]);
    await checkPage(p, 'backup-codes-view');

    await goto(p, '/account/security');
    resp = await submit(p, p.getByRole('button', { name: 'Get new codes' }));
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const fresh = await backupCodesOnPage(p);
    assert.equal(fresh.length, 10);
    for (const c of fresh) assert.match(c, BACKUP_CODE);
    assert.equal(fresh.filter((c) => old.includes(c)).length, 0, 'all codes are new');
    assert.equal((await server.validate('dana', old[1])).ok, false, 'an old code is dead');
    assert.deepEqual(await server.validate('dana', fresh[0]), { ok: true, method: 'backup_code' });
  });
});
