// Security of the portal: headers, cookies, session ids, half-logged-in sessions, CSRF, logout,
// and pages that work without JavaScript.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, noticeText, expectText,
  checkPage, checkSecurityHeaders, login, loginFull, logout, enterCode, cookie, csrfOf,
} from './harness.mjs';

const CSRF_FAILED = 'The form expired or was not sent from this site.';

describe('security', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'security' });
    browser = await launchBrowser();
    u.sam = await server.addUser('sam');
    u.sid = await server.addUser('sid');
    u.sue = await server.addUser('sue', { role: 'admin' });
    u.nojs = await server.addUser('nojs');
    await server.enrolTotpApi(u.sam, 'phone');
    await server.enrolTotpApi(u.sue, 'phone');
    await server.enrolTotpApi(u.nojs, 'phone');
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

  function expectSecureCookie(c, name) {
    assert.ok(c, `cookie ${name} is set`);
    assert.equal(c.httpOnly, true, `${name} is HttpOnly`);
    assert.equal(c.sameSite, 'Lax', `${name} is SameSite=Lax`);
  }

  it('every response carries the security headers; pages run no inline script', async (t) => {
    const p = await page(t);
    const seen = [];
    p.on('response', (r) => seen.push(r));
    await goto(p, '/login');
    await goto(p, '/setup/unknown');
    await goto(p, '/no-such-page');
    await login(p, u.sam, { password: 'wrong password' }); // a 401
    await login(p, u.sam); // a redirect, then /login/2fa
    await enterCode(p, await u.sam.totp.code());
    await goto(p, '/admin'); // a 403 for a client
    for (const r of seen) {
      const url = new URL(r.url());
      if (url.origin !== server.url) continue;
      checkSecurityHeaders(r.headers(), `${r.request().method()} ${url.pathname} (${r.status()})`);
    }
    assert.ok(seen.some((r) => r.status() === 303 || r.status() === 302), 'a redirect was checked');
    const health = await fetch(server.url + '/healthz');
    checkSecurityHeaders(Object.fromEntries(health.headers), 'GET /healthz');
    const csp = p.consoleLog.filter((l) => /Content Security Policy|Refused to/i.test(l));
    assert.deepEqual(csp, [], 'no CSP violations in the console');
  });

  it('cookies are HttpOnly and SameSite=Lax; the session id changes at login and again after the second factor', async (t) => {
    const p = await page(t);
    await p.context().addCookies([{ name: 'tf_session', value: 'fixated-by-an-attacker', url: server.url }]);
    await goto(p, '/login');
    expectSecureCookie(await cookie(p, 'tf_pre'), 'tf_pre');
    await login(p, u.sam);
    assert.equal(pathOf(p), '/login/2fa');
    const half = await cookie(p, 'tf_session');
    expectSecureCookie(half, 'tf_session');
    assert.notEqual(half.value, 'fixated-by-an-attacker', 'a new session id at login');
    await enterCode(p, await u.sam.totp.code());
    assert.equal(pathOf(p), '/account/security');
    const full = await cookie(p, 'tf_session');
    expectSecureCookie(full, 'tf_session');
    assert.notEqual(full.value, half.value, 'a new session id when the second factor completes');
    for (const c of await p.context().cookies()) expectSecureCookie(c, c.name);

    // The half-logged-in id is dead now.
    const q = await page(t);
    await q.context().addCookies([{ name: 'tf_session', value: half.value, url: server.url, httpOnly: true, sameSite: 'Lax' }]);
    await goto(q, '/account/security');
    assert.equal(pathOf(q), '/login', 'the pre-2FA session id no longer works');
  });

  it('a half-logged-in session reaches only the 2FA pages', async (t) => {
    const anon = await page(t);
    await goto(anon, '/login/2fa');
    assert.equal(pathOf(anon), '/login', '/login/2fa without a session → /login');

    for (const user of [u.sam, u.sue]) {
      const p = await page(t);
      await login(p, user);
      assert.equal(pathOf(p), '/login/2fa');
      for (const path of ['/account/security', '/account/security/enroll', '/admin', '/admin/users', '/admin/settings', '/admin/audit']) {
        const resp = await goto(p, path);
        assert.equal(pathOf(p), '/login/2fa', `${user.name} half-logged-in: ${path} → ${p.url()} (${resp.status()})`);
      }
      const csrf = await csrfOf(p);
      const post = await p.context().request.post('/account/security/backup-codes/new', { form: { csrf }, maxRedirects: 0 });
      assert.ok(
        post.status() === 403 || (post.status() >= 300 && post.status() < 400 && /\/login/.test(post.headers().location || '')),
        `POST /account/security/backup-codes/new half-logged-in → ${post.status()} ${post.headers().location || ''}`,
      );
    }
  });

  it('a POST without or with a wrong CSRF token is refused with 403', async (t) => {
    const p = await page(t);
    // The login form without its token…
    await goto(p, '/login');
    await p.getByLabel('Username', { exact: true }).fill(u.sid.name);
    await p.getByLabel('Password', { exact: true }).fill(u.sid.password);
    await p.locator('form input[name=csrf]').evaluateAll((els) => els.forEach((e) => e.remove()));
    let resp = await submit(p, 'Log in');
    assert.equal(resp.status(), 403);
    await expectText(p, CSRF_FAILED);
    await checkPage(p, 'csrf-refused');
    // …and with a wrong one.
    await goto(p, '/login');
    await p.getByLabel('Username', { exact: true }).fill(u.sid.name);
    await p.getByLabel('Password', { exact: true }).fill(u.sid.password);
    await p.locator('form input[name=csrf]').evaluateAll((els) => els.forEach((e) => (e.value = 'wrong-token')));
    resp = await submit(p, 'Log in');
    assert.equal(resp.status(), 403);
    await expectText(p, CSRF_FAILED);

    // Logged in: a tampered logout form, a token from another session, no token at all.
    await loginFull(p, u.sid);
    assert.equal(pathOf(p), '/account/security');
    await p.locator('form[action="/logout"] input[name=csrf]').evaluate((e) => (e.value = 'wrong-token'));
    resp = await submit(p, 'Log out');
    assert.equal(resp.status(), 403);
    await expectText(p, CSRF_FAILED);

    const other = await page(t);
    await loginFull(other, u.sid);
    const foreign = await csrfOf(other);
    const mine = await (async () => {
      await goto(p, '/account/security');
      return csrfOf(p);
    })();
    assert.notEqual(foreign, mine, 'each session has its own CSRF token');
    const r = await p.context().request.post('/logout', { form: { csrf: foreign }, maxRedirects: 0 });
    assert.equal(r.status(), 403, "another session's token is refused");
    for (const path of ['/logout', '/account/security/backup-codes/new']) {
      const r = await p.context().request.post(path, { form: {}, maxRedirects: 0 });
      assert.equal(r.status(), 403, `POST ${path} without a token`);
    }
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/account/security', 'still logged in after the refused POSTs');
  });

  it('logout ends the session on the server', async (t) => {
    const p = await page(t);
    await loginFull(p, u.sid);
    const session = await cookie(p, 'tf_session');
    const resp = await logout(p);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/login');
    assert.equal(await noticeText(p), 'You have logged out.');
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/login');

    const q = await page(t);
    await q.context().addCookies([{ name: 'tf_session', value: session.value, url: server.url, httpOnly: true, sameSite: 'Lax' }]);
    await goto(q, '/account/security');
    assert.equal(pathOf(q), '/login', 'the old cookie no longer opens the account');
    await expectH1(q, 'Log in');
  });

  // A half-logged-in session expires after 5 minutes: that needs a 5-minute wait, so it is
  // tested in the Rust portal tests (crates/cli/tests/it/portal.rs), which age the session in the
  // database instead.

  it('login with a second factor works without JavaScript', async (t) => {
    const p = await page(t, { javaScriptEnabled: false });
    await login(p, u.nojs);
    assert.equal(pathOf(p), '/login/2fa');
    await enterCode(p, await u.nojs.totp.code());
    assert.equal(pathOf(p), '/account/security');
    await expectText(p, 'Two-factor authentication is on');
  });
});
