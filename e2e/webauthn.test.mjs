// Security keys and passkeys (WebAuthn) through the portal, with Chromium's virtual authenticators
// driven over the DevTools protocol: registering a key from Security Settings (the first factor
// shows backup codes), signing in with it after the password, two keys on one account, removing
// one (then refused, even by a page that offered it before), the passwordless sign-in, and what
// the page says when the prompt is cancelled, the browser has no WebAuthn, the key is already
// registered, or the answer is forged (a bad signature, no presence, no user verification).
//
// The portal is opened at http://localhost:PORT: browsers refuse an IP address as a relying
// party ID, and the server knows its loopback address as `localhost` on the same port.
import { describe, it, before, after } from 'node:test';
import {
  assert, sleep, Server, launchBrowser, newPage, goto, submit, pathOf, expectH1, noticeText, expectText,
  checkPage, checkA11y, screenshot, login, logout, backupCodesOnPage, BACKUP_CODE,
} from './harness.mjs';

/** A key that checks its user (a PIN), answers at once (its touch simulated), and keeps passkeys. */
/** The login page's answer to a passkey that proved nothing (unknown, forged, expired). */
const PASSKEY_REFUSED =
  'This passkey was not accepted: it is not registered here, or this sign-in expired. Try again, or sign in with your password.';
const KEY = {
  protocol: 'ctap2',
  transport: 'usb',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

const KEY_BUTTON = 'Use your security key or passkey';
const PASSKEY_BUTTON = 'Sign in with a passkey';
const CANCELLED = 'The security key request was cancelled or timed out. Try again when you are ready.';
const NO_WEBAUTHN = 'This browser does not support security keys or passkeys. Use another browser, or another method.';
const ALREADY = 'This security key or passkey is already registered to your account.';
/** The server's answer when a key's answer does not verify (no code was entered). */
const KEY_REFUSED = 'Your security key or passkey was not accepted. Try again, or use another method.';

/** One DevTools session per page, with the virtual WebAuthn environment on (no real devices). */
const sessions = new WeakMap();
async function cdpOf(page) {
  let cdp = sessions.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    sessions.set(page, cdp);
  }
  return cdp;
}

/**
 * A security key: a virtual authenticator that can be taken out of one page and plugged into
 * another, its credentials (private keys and signature counters) going with it. Unplug it before
 * its page closes, or its counters are lost and the server rightly refuses the next answer.
 */
class VirtualKey {
  constructor(options = {}) {
    this.options = { ...KEY, ...options };
    this.credentials = [];
    this.cdp = null;
    this.id = null;
  }

  async plug(page) {
    if (this.cdp) await this.unplug();
    const cdp = await cdpOf(page);
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: this.options });
    for (const credential of this.credentials) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    this.cdp = cdp;
    this.id = authenticatorId;
    return this;
  }

  async unplug() {
    if (!this.cdp) return;
    this.credentials = await this.read();
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: this.id });
    this.cdp = null;
    this.id = null;
  }

  async read() {
    return (await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.id })).credentials;
  }

  /** Makes the key's next answers lie: {isBogusSignature, isBadUP, isBadUV} (all off when empty). */
  async override(bits = {}) {
    await this.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: this.id, ...bits });
  }

  /** The credential ids on the key, base64url as the server's options carry them. */
  async ids() {
    const creds = this.cdp ? await this.read() : this.credentials;
    return creds.map((c) => Buffer.from(c.credentialId, 'base64').toString('base64url'));
  }
}

/** The options the page's WebAuthn form carries. */
async function optionsOf(page) {
  return JSON.parse(await page.locator('form[data-webauthn]').getAttribute('data-options'));
}

/** The message the page's script shows under the key button (the `#webauthn-error` alert). */
async function keyError(page) {
  const el = page.locator('#webauthn-error');
  await el.waitFor({ state: 'visible' });
  assert.equal(await el.getAttribute('role'), 'alert');
  return (await el.innerText()).trim();
}

/** The server's error on the page (not the script's). */
async function serverError(page) {
  return (await page.locator('p.error[role=alert]:not(#webauthn-error)').first().innerText()).trim();
}

/** Clicks a key button: the key answers and the form is posted; returns the page landed on. */
async function useKey(page, name = KEY_BUTTON) {
  return submit(page, page.getByRole('button', { name, exact: true }));
}

/**
 * Waits (a little at a time) for `check` to hold: the server reads settings changed by the CLI
 * within a couple of seconds.
 */
async function until(check, what) {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The second-factor page, or the same page answered at the key's form address. */
const SECOND_FACTOR = /^\/login\/2fa(\/webauthn)?$/;

/** No Content-Security-Policy violation was reported on the page, nor any script error. */
function expectNoCspViolation(page) {
  const bad = page.consoleLog.filter((l) => /Content[- ]Security[- ]Policy|Refused to |pageerror/i.test(l));
  assert.deepEqual(bad, [], `CSP violations or script errors on ${page.url()}`);
}

describe('security keys and passkeys', () => {
  let server, browser;
  const u = {};
  before(async () => {
    server = await Server.start({ name: 'webauthn', localhost: true });
    browser = await launchBrowser();
    for (const k of ['active', 'clients', 'admins']) await server.set(`methods.webauthn.${k}`, true);
    await server.set('methods.webauthn.user_verification', 'preferred');
    for (const n of ['alice', 'bob', 'carl', 'dana']) u[n] = await server.addUser(n);
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

  /** Restarts the server `seconds` later on its clock (same port): an old step-up is stale. */
  async function later(seconds = 400) {
    server = await server.restart({ clockOffset: server.clockOffset + seconds, samePort: true });
  }

  /** Signs in with the password only (the user has no second factor yet). */
  async function signIn(p, user) {
    const resp = await login(p, user);
    assert.equal(pathOf(p), '/account/security', `${user.name} signed in with the password alone`);
    return resp;
  }

  /**
   * From Security Settings: Enable (or Add another device) → "Security key or passkey" with a
   * label → the registration page (`shots` names its screenshot and axe results) → Continue,
   * answered by the key plugged into the page. Returns the response landed on.
   */
  async function registerKey(p, label, { shots } = {}) {
    await goto(p, '/account/security/enroll');
    await expectH1(p, 'Choose a service');
    const radio = p.locator('input[name=kind][value=webauthn]');
    assert.equal(await radio.count(), 1, 'security keys are offered');
    assert.match(await p.locator('label', { has: radio }).innerText(), /Security key or passkey/);
    await radio.check();
    await p.getByLabel('Device name', { exact: true }).fill(label);
    let resp = await submit(p, 'Get Started');
    assert.ok(resp.ok(), `Get Started → ${resp.status()}`);
    assert.match(pathOf(p), /^\/account\/security\/enroll\/[^/]+$/);
    await expectH1(p, 'Register your security key or passkey');
    await expectText(p, `Device: ${label}`);
    const options = await optionsOf(p);
    assert.equal(options.rp.id, 'localhost', 'the RP ID is the name the portal is opened by');
    assert.equal(options.authenticatorSelection.userVerification, 'preferred');
    if (shots) await checkPage(p, shots);
    resp = await useKey(p, 'Continue');
    return resp;
  }

  it('register a key as the first factor: backup codes, then listed as device-bound', async (t) => {
    const p = await page(t);
    const key = await new VirtualKey().plug(p);
    await signIn(p, u.alice);
    await expectText(p, 'Two-factor authentication is off');
    const resp = await registerKey(p, 'blue key', { shots: 'webauthn-register' });
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const codes = await backupCodesOnPage(p);
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, BACKUP_CODE);
    u.alice.backupCodes = codes;
    assert.equal((await key.read()).length, 1, 'the key holds one credential');
    assert.equal((await key.read())[0].rpId, 'localhost');

    await Promise.all([p.waitForNavigation(), p.getByRole('link', { name: 'Close', exact: true }).click()]);
    await expectText(p, 'Two-factor authentication is on');
    const row = p.locator('#factors tbody tr', { hasText: 'blue key' });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /Security key or passkey/);
    assert.equal((await row.locator('.key-sync').innerText()).trim(), '(device-bound)');
    await checkPage(p, 'webauthn-security-one-key');
    expectNoCspViolation(p);
    await key.unplug();
    u.alice.blue = key;
  });

  it('sign in with the key after the password; without the key the page says so and nothing happens', async (t) => {
    const p = await page(t);
    await login(p, u.alice);
    assert.equal(pathOf(p), '/login/2fa');
    await expectText(p, 'Security key or passkey (blue key)');
    const button = p.getByRole('button', { name: KEY_BUTTON, exact: true });
    assert.ok(await button.isEnabled(), 'the key button is enabled');
    const options = await optionsOf(p);
    assert.deepEqual(options.allowCredentials.map((c) => c.id), await u.alice.blue.ids(), 'the page asks for alice\'s key');
    assert.equal(options.rpId, 'localhost');
    await checkPage(p, 'webauthn-second-factor');

    // A key that is not alice's: the browser finds no credential and the prompt fails.
    const other = await new VirtualKey().plug(p);
    await button.click();
    assert.equal(await keyError(p), CANCELLED);
    assert.equal(pathOf(p), '/login/2fa', 'nothing was posted');
    assert.ok(await button.isEnabled(), 'the button can be pressed again');
    await screenshot(p, 'webauthn-cancelled');
    await checkA11y(p, 'webauthn-cancelled');
    await other.unplug();

    // Her key: signed in, and the script's message is gone with the page.
    await u.alice.blue.plug(p);
    const resp = await useKey(p);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectH1(p, 'Security Settings');
    const last = await p.locator('#factors tbody tr', { hasText: 'blue key' }).innerText();
    assert.ok(last.length > 0);
    expectNoCspViolation(p);
    await u.alice.blue.unplug();
  });

  it('a second key on the same account: both listed, each signs in', async (t) => {
    const p = await page(t);
    await u.alice.blue.plug(p);
    await login(p, u.alice);
    await useKey(p);
    assert.equal(pathOf(p), '/account/security');
    // The second key is a synced passkey (backup eligible and backed up), of a platform authenticator.
    const green = new VirtualKey({ transport: 'internal', defaultBackupEligibility: true, defaultBackupState: true });
    await u.alice.blue.unplug();
    await green.plug(p);
    const resp = await registerKey(p, 'green passkey');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security', 'no backup codes again for a second device');
    assert.equal(await noticeText(p), 'Device added.');
    const rows = p.locator('#factors tbody tr');
    assert.equal(await rows.count(), 2);
    assert.equal((await rows.filter({ hasText: 'blue key' }).locator('.key-sync').innerText()).trim(), '(device-bound)');
    assert.equal((await rows.filter({ hasText: 'green passkey' }).locator('.key-sync').innerText()).trim(), '(synced passkey)');
    await checkPage(p, 'webauthn-security-two-keys');

    // The same key again: the browser refuses it (the page listed it among the keys to exclude).
    await goto(p, '/account/security/enroll');
    await p.locator('input[name=kind][value=webauthn]').check();
    await p.getByLabel('Device name', { exact: true }).fill('green again');
    await submit(p, 'Get Started');
    const exclude = (await optionsOf(p)).excludeCredentials.map((c) => c.id).sort();
    assert.deepEqual(exclude, [...(await u.alice.blue.ids()), ...(await green.ids())].sort(), 'both keys are excluded');
    await p.getByRole('button', { name: 'Continue', exact: true }).click();
    assert.equal(await keyError(p), ALREADY);
    assert.match(pathOf(p), /^\/account\/security\/enroll\/[^/]+$/, 'still on the registration page');
    assert.equal((await green.read()).length, 1, 'no second credential made on the key');
    await screenshot(p, 'webauthn-already-registered');
    expectNoCspViolation(p);

    // Each key signs in on its own.
    for (const key of [u.alice.blue, green]) {
      await goto(p, '/account/security');
      await logout(p);
      await key.plug(p);
      await login(p, u.alice);
      assert.equal(pathOf(p), '/login/2fa');
      assert.equal((await optionsOf(p)).allowCredentials.length, 2, 'the page offers both keys');
      await useKey(p);
      assert.equal(pathOf(p), '/account/security', 'signed in with one key');
      await key.unplug();
    }
    expectNoCspViolation(p);
    u.alice.green = green;
  });

  it('remove a key (confirming it is you): a page that still offered it is refused; the other key signs in', async (t) => {
    const p = await page(t);
    await u.alice.green.plug(p);
    await login(p, u.alice);
    await useKey(p);
    assert.equal(pathOf(p), '/account/security');
    await u.alice.green.unplug();
    // Five minutes later, Remove asks to confirm it is alice.
    await later();

    // Meanwhile another browser is at the second-factor page, which offers both keys.
    const q = await page(t);
    await u.alice.blue.plug(q);
    await login(q, u.alice);
    assert.equal(pathOf(q), '/login/2fa');
    assert.equal((await optionsOf(q)).allowCredentials.length, 2);

    await goto(p, '/account/security');
    const blueRow = p.locator('#factors tbody tr', { hasText: 'blue key' });
    let resp = await submit(p, blueRow.getByRole('button', { name: 'Remove' }));
    assert.equal(resp.status(), 401, 'Remove answers with the step-up page');
    await expectH1(p, 'Confirm it is you');
    // The key answers instead of a code: the password, then the page's key button.
    assert.equal((await optionsOf(p)).allowCredentials.length, 2, 'the step-up offers both keys');
    await checkPage(p, 'webauthn-step-up');
    await p.getByLabel('Password', { exact: true }).fill(u.alice.password);
    await u.alice.green.plug(p);
    resp = await useKey(p);
    await u.alice.green.unplug();
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    assert.equal(await noticeText(p), 'Device removed.');
    const confirmed = p.locator('#factors tbody tr', { hasNotText: 'not confirmed' });
    assert.equal(await confirmed.count(), 1);
    assert.match(await confirmed.innerText(), /green passkey/);
    assert.equal(await blueRow.count(), 0, 'the blue key is gone');
    expectNoCspViolation(p);

    // The other browser answers with the removed key: refused, and it is still not signed in.
    resp = await useKey(q);
    assert.equal(resp.status(), 401, `the removed key is refused (status ${resp.status()})`);
    assert.match(pathOf(q), SECOND_FACTOR);
    assert.equal(await serverError(q), KEY_REFUSED);
    await screenshot(q, 'webauthn-removed-key-refused');
    assert.deepEqual((await optionsOf(q)).allowCredentials.map((c) => c.id), await u.alice.green.ids(), 'only the green key offered now');
    assert.equal((await goto(q, '/account/security')).url().endsWith('/account/security'), false, 'not signed in');

    await u.alice.blue.unplug();

    // The green key still signs in.
    await login(q, u.alice);
    await u.alice.green.plug(q);
    await useKey(q);
    assert.equal(pathOf(q), '/account/security');
    expectNoCspViolation(q);
    await u.alice.green.unplug();
  });

  it('passwordless: "Sign in with a passkey" only when turned on; a passkey signs in with no password', async (t) => {
    const p = await page(t);
    await goto(p, '/login');
    assert.equal(await p.getByRole('button', { name: PASSKEY_BUTTON }).count(), 0, 'not offered while off');

    const passkey = await new VirtualKey({ transport: 'internal', defaultBackupEligibility: true, defaultBackupState: true }).plug(p);
    await signIn(p, u.bob);
    await registerKey(p, 'laptop');
    await expectH1(p, 'Record your backup codes');
    const [cred] = await passkey.read();
    assert.equal(cred.isResidentCredential, true, 'a discoverable credential (a passkey) was made');
    await goto(p, '/account/security');
    await logout(p);

    await server.set('methods.webauthn.passwordless', true);
    const button = p.getByRole('button', { name: PASSKEY_BUTTON, exact: true });
    await until(async () => (await goto(p, '/login')) && (await button.count()) === 1, 'the passkey button');
    const options = await optionsOf(p);
    assert.deepEqual(options.allowCredentials, [], 'any passkey of this site: no user named');
    assert.equal(options.userVerification, 'required');
    await checkPage(p, 'webauthn-login-passkey');

    // A passkey whose key did not verify its user (no PIN): refused, not signed in.
    await passkey.override({ isBadUV: true });
    let resp = await useKey(p, PASSKEY_BUTTON);
    assert.ok(resp.status() >= 400 && resp.status() < 500, `no user verification → 4xx, got ${resp.status()}`);
    assert.equal(pathOf(p), '/login/passkey');
    // Refused without saying more: the answer did not prove anything about any account.
    assert.equal(await serverError(p), PASSKEY_REFUSED);
    await screenshot(p, 'webauthn-passkey-no-uv');
    await passkey.override({});

    // The user's own passkey: signed in without a password or a second factor.
    resp = await useKey(p, PASSKEY_BUTTON);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectH1(p, 'Security Settings');
    assert.equal(await p.locator('#sessions').getByText('(this browser)').count(), 1);
    expectNoCspViolation(p);
    await logout(p);
    await passkey.unplug();

    // A key with no passkey of this site: the prompt fails and the page says so.
    const empty = await new VirtualKey().plug(p);
    await goto(p, '/login');
    await p.getByRole('button', { name: PASSKEY_BUTTON, exact: true }).click();
    assert.equal(await keyError(p), CANCELLED);
    assert.equal(pathOf(p), '/login');
    await empty.unplug();

    // Alice's removed blue key still holds its passkey: refused.
    await u.alice.blue.plug(p);
    resp = await useKey(p, PASSKEY_BUTTON);
    assert.ok(resp.status() >= 400 && resp.status() < 500, `a removed passkey → 4xx, got ${resp.status()}`);
    assert.equal(pathOf(p), '/login/passkey');
    assert.equal(await serverError(p), PASSKEY_REFUSED);
    assert.equal((await goto(p, '/account/security')).url().includes('/login'), true, 'not signed in');
    await u.alice.blue.unplug();
    expectNoCspViolation(p);
    await server.set('methods.webauthn.passwordless', false);
  });

  it('forged answers are refused with the page\'s error: a bad signature, no touch, no PIN when required', async (t) => {
    const p = await page(t);
    const key = await new VirtualKey().plug(p);
    await signIn(p, u.carl);
    await registerKey(p, 'red key');
    await expectH1(p, 'Record your backup codes');
    await goto(p, '/account/security');
    await logout(p);

    await login(p, u.carl);
    assert.equal(pathOf(p), '/login/2fa');
    for (const [bits, why] of [
      [{ isBogusSignature: true }, 'a signature that does not verify'],
      [{ isBadUP: true }, 'no user presence'],
    ]) {
      await key.override(bits);
      const resp = await useKey(p);
      assert.ok(resp.status() >= 400 && resp.status() < 500, `${why} → 4xx, got ${resp.status()}`);
      assert.match(pathOf(p), SECOND_FACTOR, `${why}: still asked`);
      assert.equal(await serverError(p), KEY_REFUSED, `${why}: the page says so`);
    }
    await screenshot(p, 'webauthn-bogus-signature');

    // No user verification: accepted while it is "preferred", refused once "required".
    await server.set('methods.webauthn.user_verification', 'required');
    await until(async () => (await goto(p, '/login/2fa')) && (await optionsOf(p)).userVerification === 'required', 'UV required');
    await key.override({ isBadUV: true });
    let resp = await useKey(p);
    assert.ok(resp.status() >= 400 && resp.status() < 500, `no UV when required → 4xx, got ${resp.status()}`);
    assert.match(pathOf(p), SECOND_FACTOR);
    assert.equal(await serverError(p), KEY_REFUSED);
    await server.set('methods.webauthn.user_verification', 'preferred');
    await until(async () => (await goto(p, '/login/2fa')) && (await optionsOf(p)).userVerification === 'preferred', 'UV preferred');
    resp = await useKey(p);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security', 'no UV is fine while it is only preferred');
    expectNoCspViolation(p);
    await key.override({});
    await key.unplug();
  });

  it('a browser without WebAuthn: the key buttons are disabled and the page says why', async (t) => {
    const p = await page(t);
    await p.context().addInitScript(() => {
      delete window.PublicKeyCredential;
    });
    await signIn(p, u.dana);
    await goto(p, '/account/security/enroll');
    await p.locator('input[name=kind][value=webauthn]').check();
    await p.getByLabel('Device name', { exact: true }).fill('no browser support');
    await submit(p, 'Get Started');
    await expectH1(p, 'Register your security key or passkey');
    assert.equal(await keyError(p), NO_WEBAUTHN);
    assert.equal(await p.getByRole('button', { name: 'Continue', exact: true }).isDisabled(), true);
    await checkPage(p, 'webauthn-register-unsupported');

    // Carl's second-factor page in such a browser: the key button is disabled, codes still work.
    await goto(p, '/account/security');
    await logout(p);
    await login(p, u.carl);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(await keyError(p), NO_WEBAUTHN);
    assert.equal(await p.getByRole('button', { name: KEY_BUTTON, exact: true }).isDisabled(), true);
    assert.equal(await p.getByLabel('Authentication code', { exact: true }).isEditable(), true);
    await checkPage(p, 'webauthn-second-factor-unsupported');
    expectNoCspViolation(p);
  });
});
