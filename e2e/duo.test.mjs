// Duo Security in the browser, against the stand-in Duo (crates/delivery/tests/duo_server.py:
// HTTPS on loopback, an Approve / Deny page at /oauth/v1/authorize, proven faithful by Duo's own
// SDKs in crates/delivery/tests/duo.rs). Twofold trusts the stand-in's certificate through
// TWOFOLD_EXTRA_CA_FILE; the browser context of these tests alone is told to accept it with
// playwright's `ignoreHTTPSErrors` (a throwaway self-signed certificate for 127.0.0.1; no flag is
// given to the browser process, so the other test files keep Chromium's full certificate checks).
//
// Covers: login through the Universal Prompt (Approve → in; Deny → refused), a replayed state, a
// foreign state (another browser's session), a callback without a session, an id_token signed
// with another secret, a wrong nonce, another user's preferred_username and an expired token —
// each refused —, enrolment from Security Settings through Duo, the fail mode closed and open,
// and the admin's Test connection.
import { describe, it, before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import https from 'node:https';
import path from 'node:path';
import {
  assert, Server, launchBrowser, newPage, submit, pathOf, expectH1, alertText, noticeText,
  expectText, checkPage, login, logout, backupCodesOnPage, run, goto, ROOT, BACKUP_CODE,
} from './harness.mjs';

const PYTHON = path.join(process.env.TWOFOLD_TEST_VENV || path.join(ROOT, 'target/test-venv'), 'bin/python');
const STAND_IN = path.join(ROOT, 'crates/delivery/tests/duo_server.py');
const CLIENT_ID = 'DIWEBSDKCLIENT000001';
const CLIENT_SECRET = 'webSdkClientSecret0000000000000000000001';
const IKEY = 'DIAUTHAPIIKEY0000001';
const SKEY = 'authApiSecretKey000000000000000000000001';
const NOT_CONFIRMED = 'Duo did not confirm this login. Please try again.';
const UNREACHABLE = 'Duo is unreachable; try another method or a backup code.';

/** The stand-in Duo with a certificate made by openssl for 127.0.0.1. */
class StandIn {
  static async start(users) {
    const d = new StandIn();
    d.dir = await mkdtemp(path.join(tmpdir(), 'twofold-duo-'));
    d.cert = path.join(d.dir, 'cert.pem');
    const key = path.join(d.dir, 'key.pem');
    const r = await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
      '-keyout', key, '-out', d.cert,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const args = [STAND_IN, '--cert', d.cert, '--key', key, '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET,
      '--ikey', IKEY, '--skey', SKEY, '--push-delay', '0.2'];
    for (const u of users) args.push('--user', u);
    d.child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    d.child.stdout.setEncoding('utf8');
    d.log = '';
    d.port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`duo_server.py did not start: ${d.log}`)), 30000);
      d.child.stdout.on('data', (chunk) => {
        d.log += chunk;
        const m = d.log.match(/^READY (\d+)$/m);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      d.child.on('exit', (code) => reject(new Error(`duo_server.py exited ${code}: ${d.log}`)));
    });
    d.host = `127.0.0.1:${d.port}`;
    d.origin = `https://${d.host}`;
    return d;
  }

  /** Replaces stand-in settings at runtime (POST /_standin/config), e.g. {misbehave: [...]}. */
  configure(settings) {
    const body = JSON.stringify(settings);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1', port: this.port, path: '/_standin/config', method: 'POST',
          ca: readFileSync(this.cert), headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`config: ${res.statusCode} ${text}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Answers a prompt (its hidden `prompt` field) as the Approve / Deny buttons do; returns the
   * redirect's Location. */
  decide(prompt, decision) {
    const body = new URLSearchParams({ prompt, decision }).toString();
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1', port: this.port, path: '/frame/prompt', method: 'POST', ca: readFileSync(this.cert),
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 302 ? resolve(res.headers.location) : reject(new Error(`prompt: ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await gone;
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

describe('Duo Security', () => {
  let server, browser, duo, owner, dana, enzo;

  before(async () => {
    duo = await StandIn.start(['dana=approve', 'enzo=approve', 'fay=approve']);
    server = await Server.start({ name: 'duo', extraEnv: { TWOFOLD_EXTRA_CA_FILE: duo.cert } });
    browser = await launchBrowser();
    for (const k of ['active', 'clients', 'admins']) await server.set(`methods.duo.${k}`, true);
    await server.set('methods.duo.api_host', duo.host);
    await server.set('methods.duo.client_id', CLIENT_ID);
    await server.set('methods.duo.client_secret', CLIENT_SECRET);
    await server.set('methods.duo.ikey', IKEY);
    await server.set('methods.duo.skey', SKEY);
    // Each refused Duo answer counts as a failed attempt; these tests refuse many on purpose.
    await server.set('lockout.max_failures', 100);
    owner = await server.addUser('olga', { role: 'owner' });
    dana = await server.addUser('dana');
    enzo = await server.addUser('enzo');
    // Dana's Duo factor is confirmed through the API with a push (the Auth API).
    const made = await server.api('POST', '/api/v1/users/dana/factors', { kind: 'duo', label: 'Duo Mobile' });
    assert.equal(made.status, 201, made.text);
    assert.ok(made.json.auth_url.startsWith(`${duo.origin}/oauth/v1/authorize?`), made.json.auth_url);
    const conf = await server.api('POST', `/api/v1/users/dana/factors/${made.json.id}/confirm`, {});
    assert.equal(conf.status, 200, conf.text);
    dana.backupCodes = conf.json.backup_codes;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await duo?.stop();
  });

  async function page(t) {
    const p = await newPage(browser, server, { allowOrigins: [duo.origin], ignoreHTTPSErrors: true });
    t.after(() => p.context().close());
    return p;
  }

  /** Password, then "Log in with Duo": lands on the stand-in's prompt for `user`. */
  async function toPrompt(p, user) {
    await login(p, user);
    assert.equal(pathOf(p), '/login/2fa');
    const resp = await submit(p, 'Log in with Duo');
    assert.equal(resp.status(), 200);
    assert.equal(new URL(p.url()).origin, duo.origin, 'on Duo');
    assert.equal(new URL(p.url()).pathname, '/oauth/v1/authorize');
    assert.equal((await p.locator('#username').innerText()).trim(), user.name);
  }

  /**
   * Approves the prompt on the page outside the browser (the stand-in's form posted from Node)
   * and returns the callback URL Duo would send the browser to, which the browser never loads.
   */
  async function approveAndCatch(p) {
    const prompt = await p.locator('input[name=prompt]').getAttribute('value');
    const location = await duo.decide(prompt, 'approve');
    assert.ok(location.startsWith(`${server.url}/login/duo/callback?`), location);
    return location;
  }

  /** The latest audit detail of `event` for `name`. */
  async function lastAudit(name, event) {
    const r = await server.api('GET', `/api/v1/audit?username=${name}&event=${event}&limit=1`);
    assert.equal(r.status, 200, r.text);
    return r.json.events[0]?.detail;
  }

  it('logs in through the Universal Prompt: Approve → in', async (t) => {
    const p = await page(t);
    await login(p, dana);
    assert.equal(pathOf(p), '/login/2fa');
    await checkPage(p, 'duo-2fa');
    const csp = (await p.context().request.get('/login/2fa')).headers()['content-security-policy'];
    assert.ok(csp.includes("form-action 'self'"), csp);
    const resp = await submit(p, 'Log in with Duo');
    assert.equal(new URL(p.url()).origin, duo.origin);
    assert.equal(resp.status(), 200);
    const back = await submit(p, p.locator('#approve'));
    assert.equal(back.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    await expectH1(p, 'Security Settings');
    assert.match(await lastAudit('dana', '2fa.success'), /^method=duo factor=[0-9a-f]{32}$/);
  });

  it('Deny at Duo is refused with a message', async (t) => {
    const p = await page(t);
    await toPrompt(p, dana);
    const resp = await submit(p, p.locator('#deny'));
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(new URL(p.url()).search, '?duo=not_confirmed');
    await checkPage(p, 'duo-denied');
    assert.equal(await alertText(p), NOT_CONFIRMED);
    assert.equal(await lastAudit('dana', '2fa.failure'), 'kind=duo reason=denied detail="access_denied"');
    // Still half logged in: Security Settings is out of reach.
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/login/2fa');
  });

  it('a replayed state is refused', async (t) => {
    const p = await page(t);
    await toPrompt(p, dana);
    const callback = await approveAndCatch(p);
    // The first use logs in.
    let resp = await goto(p, callback);
    assert.equal(pathOf(p), '/account/security');
    await logout(p);
    // The same state again, from a new half-logged-in session of the same browser.
    await login(p, dana);
    assert.equal(pathOf(p), '/login/2fa');
    resp = await goto(p, callback);
    assert.equal(pathOf(p), '/login/2fa');
    assert.equal(await alertText(p), 'This Duo answer was already used or has expired. Please try again.');
    await goto(p, '/account/security');
    assert.equal(pathOf(p), '/login/2fa', 'not logged in');
  });

  it("another browser's state is refused (and burnt)", async (t) => {
    const a = await page(t);
    await toPrompt(a, dana);
    const callback = await approveAndCatch(a);
    // Browser B, half logged in as the same user, presents A's state.
    const b = await page(t);
    await login(b, dana);
    await goto(b, callback);
    assert.equal(pathOf(b), '/login/2fa');
    assert.equal(await alertText(b), NOT_CONFIRMED);
    await goto(b, '/account/security');
    assert.equal(pathOf(b), '/login/2fa', 'B is not logged in');
    assert.equal(await lastAudit('dana', '2fa.failure'), 'kind=duo reason=session_mismatch');
    // A state works once: A cannot use it after B's attempt either.
    await goto(a, callback);
    assert.equal(pathOf(a), '/login/2fa');
    assert.equal(await alertText(a), 'This Duo answer was already used or has expired. Please try again.');
  });

  it('a callback without a session is refused', async (t) => {
    const a = await page(t);
    await toPrompt(a, dana);
    const callback = await approveAndCatch(a);
    const anon = await page(t);
    await goto(anon, callback);
    assert.equal(pathOf(anon), '/login');
    assert.equal(await noticeText(anon), 'Duo did not confirm this login. Please log in and try again.');
    assert.equal(await lastAudit('dana', '2fa.failure'), 'kind=duo reason=no_session');
    assert.equal(await anon.context().cookies().then((c) => c.find((x) => x.name === 'tf_session')), undefined);
  });

  for (const [knob, detail] of [
    ['other-secret', /reason=duo_invalid_answer detail=".*signature.*"/i],
    ['wrong-nonce', /reason=duo_invalid_answer detail=".*nonce.*"/i],
    ['other-username', /reason=duo_invalid_answer detail=".*user.*"/i],
    ['expired', /reason=duo_invalid_answer detail=".*expired.*"/i],
  ]) {
    it(`an id_token with ${knob} is refused`, async (t) => {
      const p = await page(t);
      await duo.configure({ misbehave: [knob] });
      t.after(() => duo.configure({ misbehave: [] }));
      await toPrompt(p, dana);
      await submit(p, p.locator('#approve'));
      assert.equal(pathOf(p), '/login/2fa');
      assert.equal(await alertText(p), NOT_CONFIRMED);
      assert.match(await lastAudit('dana', '2fa.failure'), detail);
      await goto(p, '/account/security');
      assert.equal(pathOf(p), '/login/2fa', 'not logged in');
    });
  }

  it('enrolment from Security Settings goes through Duo, then Duo logs in', async (t) => {
    const p = await page(t);
    await login(p, enzo);
    assert.equal(pathOf(p), '/account/security');
    await Promise.all([
      p.waitForNavigation({ waitUntil: 'load' }),
      p.getByRole('link', { name: 'Enable two-factor authentication', exact: true }).click(),
    ]);
    await expectH1(p, 'Choose a service');
    await p.getByLabel('Duo Security', { exact: true }).check();
    let resp = await submit(p, 'Get Started');
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Continue to Duo');
    await checkPage(p, 'duo-continue');
    resp = await submit(p, 'Continue to Duo');
    assert.equal(new URL(p.url()).origin, duo.origin, 'on Duo');
    assert.equal((await p.locator('#username').innerText()).trim(), 'enzo');
    resp = await submit(p, p.locator('#approve'));
    assert.equal(resp.status(), 200);
    await expectH1(p, 'Record your backup codes');
    const codes = await backupCodesOnPage(p);
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, BACKUP_CODE);
    const user = await server.userJson('enzo');
    const factors = user.factors ?? user.user?.factors;
    assert.ok(JSON.stringify(user).includes('"duo"'), JSON.stringify(user));
    assert.ok(factors === undefined || factors.some((f) => f.kind === 'duo' && f.confirmed), JSON.stringify(user));
    await goto(p, '/account/security');
    await expectText(p, 'Duo Security');
    await logout(p);
    // Now the login asks for Duo.
    await toPrompt(p, enzo);
    await submit(p, p.locator('#approve'));
    assert.equal(pathOf(p), '/account/security');
  });

  it('forced enrolment at login can go through Duo', async (t) => {
    const fay = await server.addUser('fay');
    await server.set('force.clients', true);
    t.after(() => server.set('force.clients', false));
    const p = await page(t);
    await login(p, fay);
    assert.equal(pathOf(p), '/login/enroll');
    await p.getByLabel('Duo Security', { exact: true }).check();
    await submit(p, 'Get Started');
    await expectH1(p, 'Continue to Duo');
    assert.match(pathOf(p), /^\/login\/enroll\/[0-9a-f]{32}$/);
    await submit(p, 'Continue to Duo');
    assert.equal(new URL(p.url()).origin, duo.origin, 'on Duo');
    await submit(p, p.locator('#approve'));
    await expectH1(p, 'Record your backup codes');
    assert.equal((await backupCodesOnPage(p)).length, 10);
    await submit(p, 'Close');
    assert.equal(pathOf(p), '/account/security');
    await expectH1(p, 'Security Settings');
  });

  it('fail mode: closed refuses, open lets the login through (both audited)', async (t) => {
    const p = await page(t);
    await duo.configure({ misbehave: ['server-error'] });
    t.after(() => duo.configure({ misbehave: [] }));
    await login(p, dana);
    let resp = await submit(p, 'Log in with Duo');
    assert.equal(resp.status(), 502);
    await expectH1(p, 'Two-factor authentication');
    assert.equal(await alertText(p), UNREACHABLE);
    await checkPage(p, 'duo-unreachable');
    assert.equal(await lastAudit('dana', '2fa.failure'), 'kind=duo reason=duo_unreachable failmode=closed');
    await server.set('methods.duo.failmode', 'open');
    t.after(() => server.set('methods.duo.failmode', 'closed'));
    resp = await submit(p, 'Log in with Duo');
    assert.equal(resp.status(), 200);
    assert.equal(pathOf(p), '/account/security');
    assert.equal(await lastAudit('dana', '2fa.success'), 'method=duo reason=duo_failmode_open');
  });

  it("the owner's Test connection checks both Duo applications", async (t) => {
    const p = await page(t);
    await login(p, owner);
    await goto(p, '/admin/settings');
    await expectText(p, `${server.url}/login/duo/callback`);
    let resp = await submit(p, 'Test connection');
    assert.equal(resp.status(), 200);
    const results = await p.locator('.duo-result').allInnerTexts();
    assert.deepEqual(results.map((r) => r.trim()), [
      'Web SDK (Universal Prompt): Duo answered the health check and accepted the client ID and secret.',
      'Auth API (push and passcodes): Duo answered /auth/v2/check and accepted the integration and secret keys.',
    ]);
    await checkPage(p, 'duo-admin-test');
    // The secret fields stay write-only.
    assert.equal(await p.locator('input[name="methods.duo.client_secret"]').getAttribute('value'), null);
    await duo.configure({ client_secret: 'anotherClientSecret000000000000000000000' });
    t.after(() => duo.configure({ client_secret: CLIENT_SECRET }));
    resp = await submit(p, 'Test connection');
    const failed = await p.locator('.duo-result[role=alert]').allInnerTexts();
    assert.equal(failed.length, 1, failed.join(' | '));
    assert.match(failed[0], /^Web SDK \(Universal Prompt\): Duo refused the request \(HTTP 400/);
  });
});
