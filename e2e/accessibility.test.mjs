// Accessibility beyond what axe checks: the whole sign-in and enrolment done with the keyboard
// alone (Tab and Enter, and typing), every focused control visibly focused; error messages
// announced (role="alert") and tied to the field they are about (aria-describedby,
// aria-invalid); the code fields keep autocomplete="one-time-code"; the pages at 320 CSS pixels
// wide (what 1280 px at 400 % zoom, or a small phone, gives) and at 200 % zoom without
// horizontal scrolling; and the sign-in and enrolment without JavaScript.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, pathOf, expectH1, alertText, Totp, login, enterCode,
  submit, checkA11y,
} from './harness.mjs';

/** What the focused element is, and whether its focus can be seen. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.id || '').trim();
    return { tag: el.tagName.toLowerCase(), id: el.id, name, visible: outline || shadow };
  });
}

/**
 * Presses Tab until the focused element matches `want` (its id or its text), checking on the
 * way that every element focused shows its focus. At most `max` presses.
 */
async function tabTo(page, want, max = 40) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (!f) continue;
    seen.push(`${f.tag}#${f.id} ${f.name.slice(0, 30)}`);
    assert.ok(f.visible, `focus not visible on ${f.tag}#${f.id} "${f.name}" at ${page.url()}`);
    if (f.id === want || f.name === want) return f;
  }
  assert.fail(`Tab never reached ${want} on ${page.url()}; focus went: ${seen.join(' | ')}`);
}

/** Presses Enter and waits for the page it leads to. */
async function enter(page) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  return resp;
}

/** The elements that stick out to the right when the document scrolls sideways (else none). */
async function sideways(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth + 1) return [];
    return [...document.body.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + el.className : ''} (${Math.round(el.getBoundingClientRect().right)}px)`)
      .slice(0, 8);
  });
}

describe('accessibility', () => {
  let server, browser;
  before(async () => {
    server = await Server.start({ name: 'a11y' });
    browser = await launchBrowser();
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

  it('sign-in, enrolment and a second sign-in with the keyboard alone', async (t) => {
    const user = await server.addUser('kim');
    const p = await page(t);
    await goto(p, '/login');
    // The username field has the focus on arrival.
    assert.equal((await focused(p))?.id, 'username');
    await p.keyboard.type(user.name);
    await tabTo(p, 'password', 1);
    await p.keyboard.type(user.password);
    let resp = await enter(p);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');

    await tabTo(p, 'Enable two-factor authentication');
    await enter(p);
    await expectH1(p, 'Choose a service');
    // The first service (the authenticator app) is chosen already: on to Get Started.
    await tabTo(p, 'Get Started');
    await enter(p);
    await expectH1(p, 'Scan the QR code');
    const secret = (await p.locator('#secret').innerText()).replace(/[\s-]/g, '');
    const totp = new Totp(secret);
    // The code field has the focus on arrival.
    assert.equal((await focused(p))?.id, 'code');
    assert.equal(await p.locator('#code').getAttribute('autocomplete'), 'one-time-code');
    await p.keyboard.type(await totp.code());
    resp = await enter(p);
    assert.equal(resp.status(), 200);
    await p.locator('#backup-codes').waitFor();
    await tabTo(p, 'Close');
    await enter(p);
    assert.equal(pathOf(p), '/account/security');

    await tabTo(p, 'Log out');
    await enter(p);
    await goto(p, '/login');
    if ((await focused(p))?.id !== 'username') await tabTo(p, 'username');
    await p.keyboard.type(user.name);
    await tabTo(p, 'password', 1);
    await p.keyboard.type(user.password);
    await enter(p);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal((await focused(p))?.id, 'code');
    assert.equal(await p.locator('#code').getAttribute('autocomplete'), 'one-time-code');
    await p.keyboard.type(await totp.code());
    await enter(p);
    assert.equal(pathOf(p), '/account/security');
  });

  it('errors are announced and tied to their fields', async (t) => {
    const user = await server.addUser('lou');
    await server.enrolTotpApi(user, 'phone');
    const p = await page(t);
    // A wrong password: the alert describes both fields, which are marked invalid.
    await login(p, user, { password: 'not the password' });
    const message = await alertText(p);
    assert.equal(message, 'Incorrect username or password.');
    assert.equal(await p.locator('[role=alert]').first().getAttribute('id'), 'page-error');
    for (const id of ['username', 'password']) {
      assert.equal(await p.locator(`#${id}`).getAttribute('aria-invalid'), 'true', id);
      assert.match(await p.locator(`#${id}`).getAttribute('aria-describedby'), /\bpage-error\b/, id);
    }
    await checkA11y(p, 'a11y-login-error');
    // A wrong code: the code field is described by its help and the error.
    await login(p, user);
    assert.equal(await p.locator('#code').getAttribute('aria-invalid'), null, 'no error yet');
    await enterCode(p, await user.totp.wrongCode());
    await alertText(p);
    const code = p.locator('#code');
    assert.equal(await code.getAttribute('aria-invalid'), 'true');
    const describedBy = (await code.getAttribute('aria-describedby')).split(/\s+/);
    assert.ok(describedBy.includes('page-error') && describedBy.includes('code-help'), describedBy.join(' '));
    // The accessible description a screen reader reads with the field holds the error.
    const description = await code.evaluate((el) =>
      el.getAttribute('aria-describedby').split(/\s+/).map((id) => document.getElementById(id)?.innerText ?? '').join(' '));
    assert.match(description, /did not match/);
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    await checkA11y(p, 'a11y-code-error');
  });

  it('no sideways scrolling at 320 px wide or at 200 % zoom', async (t) => {
    const user = await server.addUser('mo');
    await server.enrolTotpApi(user, 'phone');
    for (const opts of [
      { viewport: { width: 320, height: 640 }, name: '320px' },
      { viewport: { width: 640, height: 480 }, deviceScaleFactor: 2, name: 'zoom200' },
    ]) {
      const { name, ...ctx } = opts;
      const p = await page(t, ctx);
      if (name === 'zoom200') {
        // 200 % zoom of a 1280 px window: the page lays out in 640 CSS pixels.
        assert.equal(await p.evaluate(() => window.innerWidth), 640);
      }
      const visit = async (where) => {
        assert.deepEqual(await sideways(p), [], `${name}: ${where} scrolls sideways`);
      };
      await goto(p, '/login');
      await visit('/login');
      await login(p, user, { password: 'wrong password here' });
      await visit('/login with an error');
      await login(p, user);
      await visit('/login/2fa');
      await enterCode(p, await user.totp.code());
      await visit('/account/security');
      await goto(p, '/account/security/enroll');
      await visit('/account/security/enroll');
      await submit(p, 'Get Started');
      await visit('the QR code page');
    }
  });

  it('sign-in and enrolment work without JavaScript', async (t) => {
    const user = await server.addUser('nia');
    const p = await page(t, { javaScriptEnabled: false });
    let resp = await login(p, user);
    assert.equal(pathOf(p), '/account/security');
    await goto(p, '/account/security/enroll');
    await submit(p, 'Get Started');
    await expectH1(p, 'Scan the QR code');
    const secret = (await p.locator('#secret').innerText()).replace(/[\s-]/g, '');
    const totp = new Totp(secret);
    await p.getByLabel('Enter the 6-digit code', { exact: true }).fill(await totp.code());
    resp = await submit(p, 'Submit');
    assert.equal(resp.status(), 200);
    assert.ok((await p.locator('#backup-codes li').count()) >= 10);
    await submit(p, 'Log out');
    await login(p, user);
    assert.equal(pathOf(p), '/login/2fa');
    resp = await enterCode(p, await totp.code());
    assert.ok(resp.ok());
    assert.equal(pathOf(p), '/account/security');
  });
});
