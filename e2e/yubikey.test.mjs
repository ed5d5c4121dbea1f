// YubiKey in the browser, local mode: Security Settings → Enable → YubiKey with its AES key and
// private id → "Touch your YubiKey" → the key types its OTP and Enter (a key from another
// programming first, refused) → backup codes; then login with a touch, and the same OTP again
// refused. OTPs come from PyPI yubiotp in the test venv, typed into the box as the key would.
import { describe, it, before, after } from 'node:test';
import path from 'node:path';
import {
  assert, Server, launchBrowser, newPage, submit, pathOf, expectH1, alertText, expectText,
  checkPage, login, logout, backupCodesOnPage, run, ROOT, WRONG_CODE,
} from './harness.mjs';

const PYTHON = path.join(process.env.TWOFOLD_TEST_VENV || path.join(ROOT, 'target/test-venv'), 'bin/python');
const MAKE = `
import sys, binascii
from yubiotp.otp import OTP, encode_otp
key, uid, pub, use, sess = sys.argv[1:]
otp = OTP(binascii.unhexlify(uid), int(use), 4711, int(sess), 1234)
print(encode_otp(otp, binascii.unhexlify(key), public_id=pub.encode()).decode())
`;

/** A YubiKey emulated with yubiotp: each touch types the next OTP. */
class Key {
  constructor(publicId, aesKey, privateId) {
    Object.assign(this, { publicId, aesKey, privateId, use: 1, session: 0 });
  }
  async touch() {
    const r = await run(PYTHON, ['-c', MAKE, this.aesKey, this.privateId, this.publicId, String(this.use), String(this.session++)]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }
}

/** Types an OTP into the focused code box as the key does, ending with Enter. */
async function typeAsKey(p, otp) {
  const box = p.getByLabel(/code/i).and(p.locator('input[name=code]'));
  await box.click();
  const [resp] = await Promise.all([
    p.waitForNavigation({ waitUntil: 'load' }),
    p.keyboard.type(otp + '\n', { delay: 2 }),
  ]);
  return resp;
}

describe('YubiKey', () => {
  let server, browser, yuri, usedOtp;
  const key = new Key('vvccccdhkjkb', '9c2f1c2d5a8a1f0c9a38c9d8b37a84ab', 'a6a8a7a9a1a2');

  before(async () => {
    server = await Server.start({ name: 'yubikey' });
    browser = await launchBrowser();
    for (const k of ['active', 'clients', 'admins']) await server.set(`methods.yubikey.${k}`, true);
    yuri = await server.addUser('yuri');
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

  it('enrolment: choose YubiKey, give its secret, touch it (another key first), backup codes', async (t) => {
    const p = await page(t);
    await login(p, yuri);
    assert.equal(pathOf(p), '/account/security');
    await Promise.all([
      p.waitForNavigation({ waitUntil: 'load' }),
      p.getByRole('link', { name: 'Enable two-factor authentication', exact: true }).click(),
    ]);
    await expectH1(p, 'Choose a service');
    await p.getByLabel('YubiKey', { exact: true }).check();
    await p.getByLabel(/YubiKey AES key/).fill(key.aesKey);
    await p.getByLabel(/Private id/).fill(key.privateId);
    await p.getByLabel('Device name', { exact: true }).fill('blue key');
    await checkPage(p, 'yubikey-choose');
    let resp = await submit(p, 'Get Started');
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Touch your YubiKey');
    const enrolPath = pathOf(p);
    await checkPage(p, 'yubikey-touch');

    // A key programmed with another AES key (same public id) does not confirm it.
    const other = new Key(key.publicId, '00112233445566778899aabbccddeeff', key.privateId);
    resp = await typeAsKey(p, await other.touch());
    assert.ok(resp.status() >= 400 && resp.status() < 500, `another key → 4xx, got ${resp.status()}`);
    assert.equal(pathOf(p), enrolPath);
    assert.equal(await alertText(p), WRONG_CODE);

    resp = await typeAsKey(p, await key.touch());
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    assert.equal((await backupCodesOnPage(p)).length, 10);
    await Promise.all([
      p.waitForNavigation({ waitUntil: 'load' }),
      p.getByRole('link', { name: 'Close', exact: true }).click(),
    ]);
    await expectText(p, 'Two-factor authentication is on');
    const rows = await p.locator('#factors tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
    );
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0][1], 'YubiKey', JSON.stringify(rows[0]));
    const user = await server.userJson('yuri');
    assert.equal(JSON.stringify(user).includes(key.aesKey), false, 'the AES key is never shown back');
    await logout(p);
  });

  it('login: touch the key on the second-factor page; the same OTP again is refused', async (t) => {
    const p = await page(t);
    await login(p, yuri);
    assert.equal(pathOf(p), '/login/2fa');
    await expectText(p, 'Touch your YubiKey');
    await checkPage(p, '2fa-yubikey');
    usedOtp = await key.touch();
    const resp = await typeAsKey(p, usedOtp);
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await logout(p);
  });

  it('a replayed OTP is refused in the browser and through the API', async (t) => {
    assert.ok(usedOtp, 'the login test ran');
    const p = await page(t);
    await login(p, yuri);
    const resp = await typeAsKey(p, usedOtp);
    assert.equal(resp.status(), 401);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(await alertText(p), WRONG_CODE);
    const r = await server.validate('yuri', usedOtp);
    assert.deepEqual(r, { ok: false, reason: 'invalid_code' });
    assert.deepEqual(await server.validate('yuri', await key.touch()), { ok: true, method: 'yubikey' });
  });

  it('a key its user added in the portal is not vouched for by the validation server', async () => {
    // The user supplied the AES key, so the public id is only what their own OTP claimed.
    const made = await server.cli(['yubikey', 'client', 'add', 'e2e', '--allow-unsigned']);
    const id = made.stdout.match(/^id=(\d+)$/m)[1];
    const otp = await key.touch();
    const res = await fetch(`${server.url}/wsapi/2.0/verify?id=${id}&otp=${otp}&nonce=e2enonce0123456789`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^status=BAD_OTP\r$/m);
    // The OTP was not spent: it still logs Yuri in.
    assert.deepEqual(await server.validate('yuri', otp), { ok: true, method: 'yubikey' });
  });
});
