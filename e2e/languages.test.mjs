// The portal in each of its five languages, chosen by the browser's language (Accept-Language):
// sign-in, enrolment of an authenticator app (a wrong code first), the backup codes, a sign-in
// with a wrong and then a right code, and one with a backup code; wrong codes up to a lockout;
// the admin area; every page in every state
// checked by axe (WCAG 2.0/2.1/2.2 A and AA). Each text is looked up in the language's catalogue
// by the English text it translates. Then the login page's language menu and Security Settings'
// own choice, which outranks the browser's. The second-factor page of each language is kept as
// artifacts/screenshots/second-factor-TAG.png.
import { describe, it, before, after } from 'node:test';
import {
  assert, Server, launchBrowser, newPage, goto, submit, pathOf, h1, alertText, noticeText, Totp,
  readQr, backupCodesOnPage, checkPage, screenshot, tr, pick, outboxFiles, newOutboxCode, WRONG_CODE,
} from './harness.mjs';

const LANGS = ['en', 'de', 'fr', 'es', 'pt-BR'];

// Two tests at a time: more sign-ins in flight at once from one address would meet the password
// throttle, which counts attempts before it checks them.
describe('languages', { concurrency: 2 }, () => {
  let server, browser;
  before(async () => {
    server = await Server.start({ name: 'languages' });
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

  /** Asserts the page is in `tag` and its heading translates `english`. */
  async function expectPage(p, tag, english) {
    assert.equal(await p.locator('html').getAttribute('lang'), tag, `<html lang> on ${p.url()}`);
    const want = await tr(tag, english);
    const got = await h1(p);
    assert.ok(want.includes(got), `h1 on ${p.url()} is ${JSON.stringify(got)}, not one of ${JSON.stringify(want)}`);
  }

  const label = (p, tag, english) => tr(tag, english).then((c) => pick((t) => p.getByLabel(t, { exact: true }), c));
  const button = (p, tag, english) => tr(tag, english).then((c) => pick((t) => p.getByRole('button', { name: t, exact: true }), c));
  const link = (p, tag, english) => tr(tag, english).then((c) => pick((t) => p.getByRole('link', { name: t, exact: true }), c));

  async function logIn(p, tag, user) {
    await goto(p, '/login');
    await expectPage(p, tag, 'Log in');
    await (await label(p, tag, 'Username')).fill(user.name);
    await (await label(p, tag, 'Password')).fill(user.password);
    return submit(p, await button(p, tag, 'Log in'));
  }

  for (const tag of LANGS) {
    it(`${tag}: sign in, enrol an app, backup codes, a wrong code and a right one`, async (t) => {
      const user = await server.addUser(`user-${tag.toLowerCase()}`);
      const p = await page(t, { locale: tag });
      const shot = (name) => checkPage(p, `lang-${tag}-${name}`);

      await logIn(p, tag, user);
      assert.equal(pathOf(p), '/account/security');
      await expectPage(p, tag, 'Security Settings');
      await shot('security-off');

      // Enrolment: choose the app, scan the QR code (a wrong code first), the backup codes.
      await Promise.all([p.waitForNavigation(), (await link(p, tag, 'Enable two-factor authentication')).click()]);
      await expectPage(p, tag, 'Choose a service');
      await shot('choose');
      await (await label(p, tag, 'Time Based Tokens')).check();
      await submit(p, await button(p, tag, 'Get Started'));
      await expectPage(p, tag, 'Scan the QR code');
      await shot('scan');
      const uri = await readQr(p, `lang-${tag}-qr`);
      const secret = new URL(uri).searchParams.get('secret');
      const totp = new Totp(secret);
      const codeField = () => label(p, tag, 'Enter the 6-digit code');
      await (await codeField()).fill(await totp.wrongCode());
      let resp = await submit(p, await button(p, tag, 'Submit'));
      assert.ok(resp.status() >= 400 && resp.status() < 500, `wrong enrolment code → ${resp.status()}`);
      assert.ok((await tr(tag, WRONG_CODE)).includes(await alertText(p)), await alertText(p));
      await shot('scan-wrong-code');
      await (await codeField()).fill(await totp.code());
      resp = await submit(p, await button(p, tag, 'Submit'));
      assert.equal(resp.status(), 200);
      await expectPage(p, tag, 'Record your backup codes');
      const codes = await backupCodesOnPage(p);
      assert.equal(codes.length, 10);
      await shot('backup-codes');
      await Promise.all([p.waitForNavigation(), (await link(p, tag, 'Close')).click()]);
      await expectPage(p, tag, 'Security Settings');
      await shot('security-on');
      await submit(p, await button(p, tag, 'Log out'));
      assert.ok((await tr(tag, 'You have logged out.')).includes(await noticeText(p)));

      // A sign-in: a wrong code (its message in the language), then the right one.
      await logIn(p, tag, user);
      assert.equal(pathOf(p), '/login/2fa');
      await expectPage(p, tag, 'Two-factor authentication');
      await screenshot(p, `second-factor-${tag}`);
      await shot('second-factor');
      await (await label(p, tag, 'Authentication code')).fill(await totp.wrongCode());
      resp = await submit(p, await button(p, tag, 'Verify'));
      assert.equal(resp.status(), 401);
      assert.ok((await tr(tag, WRONG_CODE)).includes(await alertText(p)), await alertText(p));
      await shot('second-factor-wrong-code');
      await (await label(p, tag, 'Authentication code')).fill(await totp.code());
      await submit(p, await button(p, tag, 'Verify'));
      await expectPage(p, tag, 'Security Settings');
      await submit(p, await button(p, tag, 'Log out'));

      // A sign-in with a backup code.
      await logIn(p, tag, user);
      await Promise.all([p.waitForNavigation(), (await link(p, tag, 'Use a backup code')).click()]);
      await shot('backup-code');
      await (await label(p, tag, 'Backup code')).fill(codes[0]);
      await submit(p, await button(p, tag, 'Verify'));
      await expectPage(p, tag, 'Security Settings');
    });
  }

  for (const tag of ['de', 'es']) {
    it(`${tag}: wrong codes until the second factor is locked`, async (t) => {
      const user = await server.addUser(`locked-${tag.toLowerCase()}`);
      await server.enrolTotpApi(user, 'phone');
      const p = await page(t, { locale: tag });
      await logIn(p, tag, user);
      assert.equal(pathOf(p), '/login/2fa');
      const wrong = await tr(tag, WRONG_CODE);
      const locked = await tr(tag, 'Too many failed attempts: your second factor is locked for a while. Try again later or ask an administrator to unlock it.');
      let said = '';
      for (let i = 0; i < 7 && !locked.includes(said); i++) {
        await (await label(p, tag, 'Authentication code')).fill(await user.totp.wrongCode());
        await submit(p, await button(p, tag, 'Verify'));
        said = await alertText(p);
        assert.ok(wrong.includes(said) || locked.includes(said), said);
      }
      assert.ok(locked.includes(said), `never locked; last said ${said}`);
      await checkPage(p, `lang-${tag}-locked`);
      // Locked, even the right code is refused, in the same words.
      await (await label(p, tag, 'Authentication code')).fill(await user.totp.code());
      await submit(p, await button(p, tag, 'Verify'));
      assert.ok(locked.includes(await alertText(p)));
    });
  }

  for (const tag of ['fr', 'pt-BR']) {
    it(`${tag}: the admin area`, async (t) => {
      const owner = await server.addUser(`owner-${tag.toLowerCase()}`, { role: 'owner' });
      const client = await server.addUser(`client-of-${tag.toLowerCase()}`);
      const p = await page(t, { locale: tag });
      await logIn(p, tag, owner);
      for (const [path, heading, name] of [
        ['/admin', 'Admin', 'home'],
        ['/admin/users', 'Users', 'users'],
        [`/admin/users/${client.name}`, null, 'user'],
        [`/admin/users/${client.name}/reset`, null, 'reset'],
        ['/admin/settings', '2FA Settings', 'settings'],
        ['/admin/audit', 'Audit log', 'audit'],
      ]) {
        await goto(p, path);
        if (heading) await expectPage(p, tag, heading);
        else assert.equal(await p.locator('html').getAttribute('lang'), tag);
        await checkPage(p, `lang-${tag}-admin-${name}`);
      }
    });
  }

  it('the login page switches language; Security Settings keeps a user\'s own choice', async (t) => {
    const user = await server.addUser('polyglot');
    const p = await page(t, { locale: 'de-DE' });
    await goto(p, '/login?next=%2Faccount%2Fsecurity');
    await expectPage(p, 'de', 'Log in');
    // The menu (no JavaScript needed: a GET form) keeps `next` and remembers the choice.
    await p.getByLabel((await tr('de', 'Language'))[0], { exact: true }).selectOption('es');
    await submit(p, await button(p, 'de', 'Change'));
    await expectPage(p, 'es', 'Log in');
    assert.equal(new URL(p.url()).searchParams.get('next'), '/account/security');
    await goto(p, '/login');
    await expectPage(p, 'es', 'Log in');
    await checkPage(p, 'lang-switched-login');

    // Signed in, the user picks French: every page is French, whatever the browser asks for.
    await (await label(p, 'es', 'Username')).fill(user.name);
    await (await label(p, 'es', 'Password')).fill(user.password);
    await submit(p, await button(p, 'es', 'Log in'));
    await expectPage(p, 'es', 'Security Settings');
    await p.locator('#language').selectOption('fr');
    await submit(p, await button(p, 'es', 'Save language'));
    await expectPage(p, 'fr', 'Security Settings');
    assert.ok((await tr('fr', 'Language saved.')).includes(await noticeText(p)));
    assert.equal(await p.locator('#language').inputValue(), 'fr');
    await checkPage(p, 'lang-own-choice');
    // "The browser's language" gives the choice back to the browser (and its tf_lang cookie).
    await p.locator('#language').selectOption('');
    await submit(p, await button(p, 'fr', 'Save language'));
    await expectPage(p, 'es', 'Security Settings');
  });
});

// The remaining states in a second language: forced enrolment of email codes (the code page, a
// wrong code), "Send me a code" refused within 30 s of the last send, and a page that is not
// there.
describe('more pages in German', () => {
  let server, browser;
  before(async () => {
    server = await Server.start({ name: 'languages-more' });
    browser = await launchBrowser();
    await server.set('methods.email.active', true);
    await server.set('methods.email.clients', true);
    await server.set('force.clients', true);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('de: forced email enrolment, a wrong code, a throttled send, not found', async (t) => {
    const tag = 'de';
    const p = await newPage(browser, server, { locale: tag });
    t.after(() => p.context().close());
    const expectPage = async (english) => {
      assert.equal(await p.locator('html').getAttribute('lang'), tag, `<html lang> on ${p.url()}`);
      const want = await tr(tag, english);
      assert.ok(want.includes(await h1(p)), `h1 on ${p.url()}: ${await h1(p)} not in ${want}`);
    };
    const label = async (english) => pick((x) => p.getByLabel(x, { exact: true }), await tr(tag, english));
    const button = async (english) => pick((x) => p.getByRole('button', { name: x, exact: true }), await tr(tag, english));
    // The first-run page (this server has no owner yet).
    let resp = await goto(p, server.setupUrl);
    assert.equal(resp.status(), 200);
    assert.equal(await p.locator('html').getAttribute('lang'), tag);
    await checkPage(p, 'lang-de-setup');
    const user = await server.addUser('greta', { email: 'greta@example.com' });

    await goto(p, '/login');
    await (await label('Username')).fill(user.name);
    await (await label('Password')).fill(user.password);
    await submit(p, await button('Log in'));
    assert.equal(pathOf(p), '/login/enroll');
    await expectPage('Choose a service');
    await checkPage(p, 'lang-de-forced-choose');
    await (await label('Email codes')).check();
    const seen = await outboxFiles(server);
    await submit(p, await button('Get Started'));
    await expectPage('Enter the code we sent');
    await checkPage(p, 'lang-de-email-code');
    const mail = await newOutboxCode(server, seen);
    const other = String((Number(mail.code) + 1) % 1e6).padStart(6, '0');
    await (await label('Enter the 6-digit code')).fill(other);
    resp = await submit(p, await button('Submit'));
    assert.ok(resp.status() >= 400 && resp.status() < 500, `a wrong code → ${resp.status()}`);
    assert.ok((await tr(tag, WRONG_CODE)).includes(await alertText(p)), await alertText(p));
    await checkPage(p, 'lang-de-email-code-wrong');
    await (await label('Enter the 6-digit code')).fill(mail.code);
    await submit(p, await button('Submit'));
    await expectPage('Record your backup codes');
    await submit(p, await button('Close'));
    await submit(p, await button('Log out'));

    // At the second factor, a new code within 30 s of the last one is refused, in German.
    await goto(p, '/login');
    await (await label('Username')).fill(user.name);
    await (await label('Password')).fill(user.password);
    await submit(p, await button('Log in'));
    await expectPage('Two-factor authentication');
    resp = await submit(p, p.locator('form[action="/login/2fa/send"] button').first());
    assert.equal(resp.status(), 429);
    const said = await alertText(p);
    assert.match(said, /\d+ Sekunden?/, said);
    await checkPage(p, 'lang-de-send-throttled');

    // The log-out page.
    resp = await goto(p, '/logout');
    assert.equal(resp.status(), 200);
    assert.equal(await p.locator('html').getAttribute('lang'), tag);
    await checkPage(p, 'lang-de-logout');

    // The pages that say no.
    resp = await goto(p, '/no-such-page');
    assert.equal(resp.status(), 404);
    await expectPage('Not found');
    await checkPage(p, 'lang-de-not-found');
  });
});
