// Forced enrolment: with force.clients (or force.admins) on, a user without a usable factor who logs
// in is sent to enrolment and can reach nothing else until it is done.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, expectText, expectNoText,
  login, loginFull, logout, enrolTotpUi, backupCodesOnPage, BACKUP_CODE, enterCode,
} from './harness.mjs';

describe('forced enrolment', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'forced' });
    browser = await launchBrowser();
    u.fc = await server.addUser('fc');
    u.fb = await server.addUser('fb');
    u.fd = await server.addUser('fd');
    u.fa = await server.addUser('fa', { role: 'admin' });
    await server.enrolTotpApi(u.fb, 'phone');
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

  async function expectStuckInEnrolment(p) {
    for (const path of ['/account/security', '/account/security/enroll', '/admin', '/admin/users', '/admin/settings']) {
      const resp = await goto(p, path);
      assert.equal(pathOf(p), '/login/enroll', `${path} while enrolment is forced → ${p.url()} (${resp.status()})`);
    }
  }

  it('a client without a factor is sent to enrolment, stays there, and Close finishes the login', async (t) => {
    await server.set('force.clients', 'true');
    await server.set('force.admins', 'false');
    const p = await page(t);
    let resp = await login(p, u.fc);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/login/enroll');
    await expectStuckInEnrolment(p);
    await goto(p, '/login/enroll');
    const enrolled = await enrolTotpUi(p, { label: 'my phone', shots: 'forced-enroll', server, wrongFirst: true });
    assert.match(enrolled.factorPath, /^\/login\/enroll\/[^/]+$/);
    assert.equal(enrolled.resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const codes = await backupCodesOnPage(p);
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, BACKUP_CODE);
    const close = p.locator('form[action="/login/enroll/done"]').getByRole('button', { name: 'Close', exact: true });
    resp = await submit(p, close);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
    await expectText(p, 'Two-factor authentication is required for your account.');
    assert.equal(await p.getByRole('button', { name: 'Turn off two-factor authentication' }).count(), 0);

    // From now on the login asks for the new device.
    u.fc.totp = enrolled.totp;
    await logout(p);
    await login(p, u.fc);
    assert.equal(pathOf(p), '/login/2fa');
    resp = await enterCode(p, await u.fc.totp.code());
    assert.equal(pathOf(p), '/account/security');
  });

  it('a forced client with 2FA cannot turn it off', async (t) => {
    await server.set('force.clients', 'true');
    const p = await page(t);
    await loginFull(p, u.fb);
    await expectText(p, 'Two-factor authentication is required for your account.');
    assert.equal(await p.locator('form[action="/account/security/disable"]').count(), 0);
    await expectNoText(p, 'Turn off two-factor authentication');
  });

  it('force.admins sends an admin to enrolment and leaves clients alone', async (t) => {
    await server.set('force.clients', 'false');
    await server.set('force.admins', 'true');
    const c = await page(t);
    await login(c, u.fd);
    assert.equal(pathOf(c), '/account/security', 'a client is not forced');

    const p = await page(t);
    await login(p, u.fa);
    assert.equal(pathOf(p), '/login/enroll');
    await expectStuckInEnrolment(p);
    await goto(p, '/login/enroll');
    const enrolled = await enrolTotpUi(p, { label: 'admin phone', server });
    await expectH1(p, 'Record your backup codes');
    await submit(p, p.locator('form[action="/login/enroll/done"]').getByRole('button', { name: 'Close', exact: true }));
    assert.equal(pathOf(p), '/account/security');
    const resp = await goto(p, '/admin');
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Admin');
    u.fa.totp = enrolled.totp;
  });

  it('after an admin reset, a forced user enrols again at the next login', async (t) => {
    await server.set('force.clients', 'true');
    await server.cli(['user', 'reset-2fa', 'fc']);
    const p = await page(t);
    await login(p, u.fc);
    assert.equal(pathOf(p), '/login/enroll');
  });
});
