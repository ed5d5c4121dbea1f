// Shared harness of the end-to-end browser tests: a throwaway `twofold serve` per test file, the CLI
// against its data directory, headless Debian Chromium driven by playwright-core, codes computed
// with oathtool and QR codes read with zbarimg (as a phone would), axe-core run inside the page,
// and screenshots saved to artifacts/screenshots/.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readFile, readdir, stat } from 'node:fs/promises';
import { readFileSync, existsSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export { assert, sleep };

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..');
export const BIN = process.env.TWOFOLD_BIN || path.join(ROOT, 'target/debug/twofold');
export const CHROMIUM = process.env.TWOFOLD_E2E_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.TWOFOLD_E2E_ARTIFACTS || path.join(ROOT, 'artifacts');
export const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');
export const PASSWORD = 'correct horse battery staple';

/** How long a locator or navigation may take before a test fails (the server is local). */
const ACTION_TIMEOUT = Number(process.env.TWOFOLD_E2E_TIMEOUT || 5000);

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// --- Processes -------------------------------------------------------------------------------

/** Runs a program; resolves {code, stdout, stderr}; never rejects on a non-zero exit. */
export function run(file, args, { input, env, timeout = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

// --- The server --------------------------------------------------------------------------------

let serverCount = 0;

/** A running `twofold serve` on a fresh data directory (or `dataDir` to restart on an old one). */
export class Server {
  static async start(opts = {}) {
    const s = new Server();
    try {
      return await s.#start(opts);
    } catch (e) {
      await s.stop().catch(() => {});
      throw e;
    }
  }

  async #start({ name = 'server', dataDir, expectSetup, extraEnv = {}, listen = '127.0.0.1:0', localhost = false } = {}) {
    const s = this;
    s.baseName = name;
    s.localhost = localhost;
    s.extraEnv = extraEnv;
    /** Seconds this server's clock runs ahead of the wall clock (`TWOFOLD_TEST_CLOCK_OFFSET`). */
    s.clockOffset = Number(extraEnv.TWOFOLD_TEST_CLOCK_OFFSET || 0);
    s.name = `${name}-${process.pid}-${++serverCount}`;
    s.ownDir = !dataDir;
    s.dataDir = dataDir || (await mkdtemp(path.join(tmpdir(), 'twofold-e2e-')));
    s.env = {
      ...process.env,
      TWOFOLD_DATA_DIR: s.dataDir,
      TWOFOLD_LISTEN: listen,
      TWOFOLD_LOG: process.env.TWOFOLD_E2E_LOG || 'warn',
    };
    delete s.env.TWOFOLD_CONFIG;
    delete s.env.TWOFOLD_BIN;
    delete s.env.TWOFOLD_DATABASE_URL;
    delete s.env.TWOFOLD_PUBLIC_URL;
    delete s.env.TWOFOLD_MASTER_KEY_FILE;
    delete s.env.TWOFOLD_EXTRA_CA_FILE;
    Object.assign(s.env, extraEnv);
    if (!existsSync(BIN)) throw new Error(`no twofold binary at ${BIN} (build it, or set TWOFOLD_BIN)`);
    await mkdir(path.join(ARTIFACTS, 'logs'), { recursive: true });
    s.log = createWriteStream(path.join(ARTIFACTS, 'logs', `${name}.log`), { flags: 'a' });
    s.log.write(`--- ${new Date().toISOString()} ${BIN} serve (data dir ${s.dataDir})\n`);
    s.stdout = '';
    s.stderr = '';
    s.child = spawn(BIN, ['serve'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    s.exited = new Promise((resolve) => s.child.on('exit', (code, signal) => resolve({ code, signal })));
    s.child.stdout.setEncoding('utf8');
    s.child.stderr.setEncoding('utf8');
    s.child.stdout.on('data', (d) => {
      s.stdout += d;
      s.log.write(d);
    });
    s.child.stderr.on('data', (d) => {
      s.stderr = (s.stderr + d).slice(-4000);
      s.log.write(d);
    });

    const deadline = Date.now() + 30000;
    const fresh = expectSetup ?? s.ownDir;
    let listenSeenAt = 0;
    for (;;) {
      const listen = s.stdout.match(/^twofold listening on (http:\/\/\S+)$/m);
      const setup = s.stdout.match(/Create it at (http:\/\/\S+\/setup\/\S+?)[ ,]/);
      if (listen) {
        /** The address the server printed (what a restart on the same port listens on). */
        s.listenUrl = listen[1].replace(/\/$/, '');
        s.url = s.listenUrl;
        // Browsers refuse an IP address as a WebAuthn relying party ID, and treat `localhost`
        // as a secure context: the security key tests open the portal by that name (the
        // server itself knows a loopback address as `localhost` on the same port).
        if (localhost) s.url = s.listenUrl.replace(/^http:\/\/(127\.0\.0\.1|\[::1\])(?=:)/, 'http://localhost');
        listenSeenAt ||= Date.now();
        if (setup) s.setupUrl = setup[1];
        // The setup line is written in the same flush as the listening line; when a fresh data
        // directory is expected to print it, wait a little longer for it.
        if (setup || Date.now() - listenSeenAt > (fresh ? 5000 : 500)) break;
      }
      const exited = await Promise.race([s.exited, sleep(50, null)]);
      if (exited) throw new Error(`twofold serve exited (${JSON.stringify(exited)}):\n${s.stdout}${s.stderr}`);
      if (Date.now() > deadline) throw new Error(`twofold serve did not start:\n${s.stdout}${s.stderr}`);
    }
    if (fresh && !s.setupUrl) throw new Error(`no setup link printed on a fresh data dir:\n${s.stdout}`);
    return s;
  }

  /** Stops the server (SIGTERM) and deletes its data directory unless `keepData`. */
  async stop({ keepData = false } = {}) {
    if (this.child && this.child.pid && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const done = await Promise.race([this.exited, sleep(10000, null, { ref: false })]);
      if (!done) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    if (this.log) {
      const log = this.log;
      this.log = null;
      await new Promise((r) => log.end(r));
    }
    if (this.ownDir && this.dataDir && !keepData) await rm(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Stops this server and starts another on the same data directory (no setup link expected),
   * with the same extra environment plus `extraEnv`. `clockOffset` (seconds) starts it "later":
   * its clock runs that far ahead of the wall clock (`TWOFOLD_TEST_CLOCK_OFFSET`; TOTP codes for
   * it need `new Totp(secret, { offset })` or `totp.offset = server.clockOffset`). `samePort`
   * listens on the same address again, so open browser contexts (their base URL, their
   * cookies) carry on against the new server.
   */
  async restart({ extraEnv = {}, clockOffset, samePort = false } = {}) {
    const env = { ...this.extraEnv, ...extraEnv };
    if (clockOffset !== undefined) env.TWOFOLD_TEST_CLOCK_OFFSET = String(Math.floor(clockOffset));
    const listen = samePort ? new URL(this.listenUrl).host : undefined;
    await this.stop({ keepData: true });
    const opts = { name: this.baseName, dataDir: this.dataDir, expectSetup: false, extraEnv: env, listen, localhost: this.localhost };
    let again;
    for (let attempt = 1; ; attempt++) {
      try {
        again = await Server.start(opts);
        break;
      } catch (e) {
        // The port of the server just stopped may take a moment to be free again.
        if (!samePort || attempt >= 10 || !/address already in use|os error 98/i.test(String(e.message))) throw e;
        await sleep(500);
      }
    }
    if (samePort) assert.equal(again.url, this.url, 'restarted on the same address');
    again.ownDir = this.ownDir;
    again.token = this.token;
    return again;
  }

  /** This server's idea of now, in Unix seconds (the wall clock plus its clock offset). */
  now() {
    return Date.now() / 1000 + this.clockOffset;
  }

  /** `twofold ARGS` against this server's data directory; throws on a non-zero exit unless `allowFail`. */
  async cli(args, { input, allowFail = false } = {}) {
    const r = await run(BIN, args, { input, env: this.env });
    if (r.code !== 0 && !allowFail) {
      throw new Error(`twofold ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    }
    return r;
  }

  /** Creates a user with the CLI (an email address and a phone number optional); returns {name, password, role}. */
  async addUser(name, { role = 'client', password = PASSWORD, email, phone } = {}) {
    const args = ['user', 'add', name, '--role', role, '--password-stdin'];
    if (email) args.push('--email', email);
    if (phone) args.push('--phone', phone);
    await this.cli(args, { input: password + '\n' });
    return { name, password, role };
  }

  async set(key, value) {
    await this.cli(['settings', 'set', key, String(value)]);
  }

  async settings() {
    const r = await this.cli(['settings', 'show', '--json']);
    const v = JSON.parse(r.stdout);
    return v.settings ?? v;
  }

  async userJson(name) {
    const r = await this.cli(['user', 'show', name, '--json']);
    return JSON.parse(r.stdout);
  }

  /** The JSON API with an admin token created on first use. */
  async api(method, pathname, body) {
    if (!this.token) {
      const r = await this.cli(['token', 'create', `e2e-${Date.now()}`, '--scope', 'admin']);
      this.token = r.stdout.trim();
    }
    const res = await fetch(this.listenUrl + pathname, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  /** Enrols a TOTP device through the JSON API (setup for tests that are not about enrolment). */
  async enrolTotpApi(user, label = 'phone') {
    const made = await this.api('POST', `/api/v1/users/${user.name}/factors`, { kind: 'totp', label });
    assert.equal(made.status, 201, `create factor: ${made.text}`);
    const totp = new Totp(made.json.secret, { offset: this.clockOffset });
    const conf = await this.api('POST', `/api/v1/users/${user.name}/factors/${made.json.id}/confirm`, {
      code: await totp.code(),
    });
    assert.equal(conf.status, 200, `confirm factor: ${conf.text}`);
    user.totp ??= totp;
    if (conf.json.backup_codes) user.backupCodes = conf.json.backup_codes;
    return { id: made.json.id, totp, label };
  }

  async validate(username, code) {
    const r = await this.api('POST', '/api/v1/validate', { username, code });
    return r.json;
  }
}

// --- Codes ------------------------------------------------------------------------------------

/** `oathtool --totp -b` for the step holding unix time `at`. */
export async function oathtool(secret, at = Date.now() / 1000) {
  const r = await run('oathtool', ['--totp', '-b', '-N', `@${Math.floor(at)}`, secret]);
  assert.equal(r.code, 0, `oathtool: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * An authenticator app for one secret that never replays: each code is for a step later than the
 * last one handed out (the server accepts only later steps), and at most one step ahead of now
 * (the server accepts ±1 step); it waits when it has to.
 */
export class Totp {
  /** `offset`: seconds the server's clock runs ahead of the wall clock (see Server.restart). */
  constructor(secret, { offset = 0 } = {}) {
    this.secret = secret;
    this.last = -Infinity;
    this.offset = offset;
  }

  /** Now on the server's clock, in Unix seconds. */
  now() {
    return Date.now() / 1000 + this.offset;
  }

  async code() {
    for (;;) {
      const t = this.now();
      const now = Math.floor(t / 30);
      if (t - now * 30 > 27) {
        // Too close to a step boundary: the server might read a different step.
        await sleep(Math.min(1000, (30 - (t - now * 30)) * 1000 + 300));
        continue;
      }
      const step = Math.max(this.last + 1, now);
      if (step <= now + 1) {
        this.last = step;
        return oathtool(this.secret, step * 30 + 1);
      }
      // At most a second at a time; the loop looks again.
      await sleep(Math.min(1000, ((step - 1) * 30 - t) * 1000 + 300));
    }
  }

  /** A six-digit code that is none of the codes for the steps around now. */
  async wrongCode() {
    const now = Math.floor(this.now() / 30);
    const near = new Set();
    for (let k = -3; k <= 3; k++) near.add(await oathtool(this.secret, (now + k) * 30 + 1));
    for (;;) {
      const c = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
      if (!near.has(c)) return c;
    }
  }
}

/** Reads a QR code from a PNG with zbarimg; returns the decoded text or null. */
export async function zbarimg(file) {
  const r = await run('zbarimg', ['--raw', '-q', file]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Takes a screenshot of `#qr` (then with a white margin if that fails) and decodes it. */
export async function readQr(page, name = 'qr') {
  await mkdir(SCREENSHOTS, { recursive: true });
  const qr = page.locator('#qr');
  await qr.waitFor();
  // The image must have loaded before it can be photographed.
  await page.waitForFunction(() => {
    const el = document.querySelector('#qr');
    return el && (el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0));
  });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await qr.screenshot({ path: file });
  let text = await zbarimg(file);
  if (!text) {
    const box = await qr.boundingBox();
    const m = 24;
    await page.evaluate(() => (document.body.style.background = '#fff'));
    await page.screenshot({
      path: file,
      clip: { x: Math.max(0, box.x - m), y: Math.max(0, box.y - m), width: box.width + 2 * m, height: box.height + 2 * m },
    });
    text = await zbarimg(file);
  }
  assert.ok(text, `zbarimg could not read the QR code in ${file}`);
  return text;
}

/** Parses an otpauth://totp URI. */
export function parseOtpauth(uri) {
  assert.match(uri, /^otpauth:\/\/totp\//i, `not an otpauth totp URI: ${uri}`);
  const u = new URL(uri);
  return {
    label: decodeURIComponent(u.pathname.replace(/^\/+/, '')),
    secret: u.searchParams.get('secret'),
    issuer: u.searchParams.get('issuer'),
    params: Object.fromEntries(u.searchParams),
  };
}

// --- The browser ------------------------------------------------------------------------------

/** Headless Chromium; `args` are extra command-line switches (e.g. `--host-resolver-rules`). */
export async function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...args,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** An init script that shifts the page's clock (Date and Date.now) by `ms`. */
function clockShiftScript(ms) {
  return `(() => {
    const shift = ${Number(ms)};
    const Real = Date;
    class Shifted extends Real {
      constructor(...a) { if (a.length === 0) super(Real.now() + shift); else super(...a); }
      static now() { return Real.now() + shift; }
    }
    globalThis.Date = Shifted;
  })();`;
}

/**
 * A new browser context (its own cookie jar) with one page on `server`. Requests to any other
 * origin are refused so nothing leaves the machine, except to the origins in `allowOrigins`
 * (loopback stand-ins such as the Duo one). Console messages and page errors are kept in
 * page.consoleLog. `clockShiftMs` shifts the page's Date.
 */
export async function newPage(browser, server, { clockShiftMs, permissions, allowOrigins = [], ...opts } = {}) {
  const context = await browser.newContext({ baseURL: server.url, acceptDownloads: true, ...opts });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT * 2);
  const origin = new URL(server.url).origin;
  const allowed = new Set([origin, ...allowOrigins]);
  await context.route(
    (url) => !allowed.has(url.origin) && url.protocol.startsWith('http'),
    (route) => route.abort('blockedbyclient'),
  );
  if (permissions) await context.grantPermissions(permissions, { origin });
  if (clockShiftMs) await context.addInitScript(clockShiftScript(clockShiftMs));
  const page = await context.newPage();
  page.consoleLog = [];
  page.on('console', (m) => page.consoleLog.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.consoleLog.push(`pageerror: ${e.message}`));
  return page;
}

/** GET a path; returns the response of the final document. */
export async function goto(page, pathname) {
  return page.goto(pathname, { waitUntil: 'load' });
}

/**
 * Clicks a submit button (by its accessible name, or a locator) and waits for the navigation;
 * returns the response of the page landed on (after redirects).
 */
export async function submit(page, button, { within } = {}) {
  const scope = within ? page.locator(within) : page;
  const loc = typeof button === 'string' ? scope.getByRole('button', { name: button, exact: true }) : button;
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), loc.click()]);
  return resp;
}

export function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname;
}

export async function h1(page) {
  return (await page.locator('h1').first().innerText()).trim();
}

export async function expectH1(page, text) {
  const got = await h1(page).catch(() => null);
  assert.equal(got, text, `h1 on ${page.url()}`);
}

export async function alertText(page) {
  return (await page.locator('[role=alert]').first().innerText()).trim();
}

export async function noticeText(page) {
  return (await page.locator('[role=status]').first().innerText()).trim();
}

export async function mainText(page) {
  return (await page.locator('main').first().innerText()).replace(/\s+/g, ' ');
}

/** Asserts the page's visible text contains `text` (string or RegExp). */
export async function expectText(page, text) {
  const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  if (text instanceof RegExp) assert.match(body, text, `on ${page.url()}`);
  else assert.ok(body.includes(text), `expected ${JSON.stringify(text)} on ${page.url()}, page says: ${body.slice(0, 800)}`);
}

export async function expectNoText(page, text) {
  const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  assert.ok(!body.includes(text), `did not expect ${JSON.stringify(text)} on ${page.url()}`);
}

/** The `#server-time` element: checks its shape and that it is within `slack` seconds of now. */
export async function expectServerTime(page, slack = 120) {
  const el = page.locator('#server-time');
  await el.waitFor({ state: 'attached' });
  const tag = await el.evaluate((e) => e.tagName);
  assert.equal(tag, 'TIME', '#server-time is a <time>');
  const dt = await el.getAttribute('datetime');
  assert.match(dt ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, `datetime attribute ${dt}`);
  const shown = (await el.innerText()).trim();
  assert.match(shown, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/, `server time text ${shown}`);
  const t = Date.parse(dt);
  assert.ok(Math.abs(t - Date.now()) < slack * 1000, `server time ${dt} is far from now`);
  assert.equal(shown.slice(0, 19), dt.slice(0, 19).replace('T', ' '), 'text and datetime agree');
}

/** Saves a full-page screenshot as artifacts/screenshots/NAME.png. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, timeout: 30000 });
}

/** The WCAG rules axe checks: every level-A and AA criterion of WCAG 2.0, 2.1 and 2.2 it can. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe-core inside the page (evaluated through the DevTools protocol, so the page's CSP does
 * not stop it) with the WCAG 2.0/2.1/2.2 A and AA rules, and fails on any violation, whatever its
 * impact. The full result is written to artifacts/axe/NAME.json.
 */
export async function checkA11y(page, name) {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate((tags) =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
  WCAG_TAGS);
  await mkdir(path.join(ARTIFACTS, 'axe'), { recursive: true });
  await writeFile(
    path.join(ARTIFACTS, 'axe', `${name}.json`),
    JSON.stringify({ url: page.url(), violations: results.violations }, null, 2),
  );
  const bad = results.violations;
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe violations on ${page.url()}`,
  );
}

/**
 * The checks every main page gets: one <main id="main">, one <h1>, a CSRF token in every POST
 * form, no inline script, no axe violation of the WCAG A/AA rules, and a screenshot.
 */
export async function checkPage(page, name) {
  await screenshot(page, name);
  assert.equal(await page.locator('main#main').count(), 1, `one <main id="main"> on ${page.url()}`);
  assert.equal(await page.locator('h1').count(), 1, `one <h1> on ${page.url()}`);
  await expectCsrfInForms(page);
  const inline = await page.locator('script:not([src])').count();
  assert.equal(inline, 0, `inline <script> on ${page.url()}`);
  await checkA11y(page, name);
}

export async function expectCsrfInForms(page) {
  const forms = await page.locator('form').evaluateAll((fs) =>
    fs
      .filter((f) => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
      .map((f) => ({ action: f.getAttribute('action'), csrf: f.querySelector('input[name=csrf]')?.value ?? null })),
  );
  for (const f of forms) {
    assert.ok(f.csrf, `POST form ${f.action} on ${page.url()} has a csrf token`);
  }
}

/** The CSRF token of the page's first POST form. */
export async function csrfOf(page) {
  const v = await page.locator('form input[name=csrf]').first().getAttribute('value');
  assert.ok(v, `a csrf token on ${page.url()}`);
  return v;
}

export async function cookie(page, name) {
  const all = await page.context().cookies();
  return all.find((c) => c.name === name);
}

// --- Flows --------------------------------------------------------------------------------------

/** Fills the login form and submits; returns the response landed on. */
export async function login(page, user, { next, password } = {}) {
  await goto(page, next !== undefined ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await page.getByLabel('Username', { exact: true }).fill(user.name);
  await page.getByLabel('Password', { exact: true }).fill(password ?? user.password);
  return submit(page, 'Log in');
}

/** Enters a code on /login/2fa. */
export async function enterCode(page, code) {
  await page.getByLabel('Authentication code', { exact: true }).fill(code);
  return submit(page, 'Verify');
}

/** Logs in all the way (password, then a TOTP code when asked); returns the response landed on. */
export async function loginFull(page, user, opts = {}) {
  let resp = await login(page, user, opts);
  if (pathOf(page) === '/login/2fa') {
    assert.ok(user.totp, `${user.name} was asked for a second factor but has no device`);
    resp = await enterCode(page, await user.totp.code());
  }
  assert.ok(resp.ok(), `login of ${user.name} ended with ${resp.status()} at ${page.url()}`);
  return resp;
}

export async function logout(page) {
  return submit(page, 'Log out');
}

/**
 * Enrols a TOTP device through the pages, from the "Choose a service" page at `base`
 * (/account/security/enroll or /login/enroll): reads the QR code off the screen, compares it with
 * the secret shown as text, and enters the code. Returns {secret, totp, otpauth, factorPath,
 * resp} on the page after Submit.
 */
export async function enrolTotpUi(page, { label, shots, server, wrongFirst = false } = {}) {
  await expectH1(page, 'Choose a service');
  if (shots) await checkPage(page, `${shots}-choose`);
  await page.getByLabel('Time Based Tokens', { exact: true }).check();
  const device = page.getByLabel('Device name', { exact: true });
  if (label !== undefined) await device.fill(label);
  let resp = await submit(page, 'Get Started');
  assert.ok(resp.ok(), `Get Started → ${resp.status()}`);
  const factorPath = pathOf(page);
  assert.match(factorPath, /\/enroll\/[^/]+$/, 'redirected to the enrolment of the new factor');
  await expectH1(page, 'Scan the QR code');
  assert.equal(await page.locator('#qr').getAttribute('alt'), 'QR code for your authenticator app');
  if (shots) await checkPage(page, `${shots}-qr`);
  const uri = await readQr(page, `${shots || 'enrol'}-qr-element`);
  const otpauth = parseOtpauth(uri);
  const shown = (await page.locator('#secret').innerText()).replace(/[\s-]/g, '').toUpperCase();
  assert.equal(otpauth.secret.replace(/=+$/, '').toUpperCase(), shown.replace(/=+$/, ''), 'QR secret = text secret');
  if (server) {
    const s = await server.settings();
    if (typeof s.issuer === 'string' && s.issuer) assert.equal(otpauth.issuer, s.issuer, 'issuer in the otpauth URI');
  }
  const totp = new Totp(shown);
  const codeField = page.getByLabel('Enter the 6-digit code', { exact: true });
  if (wrongFirst) {
    await codeField.fill(await totp.wrongCode());
    resp = await submit(page, 'Submit');
    // The UI SPEC gives no status for a wrong enrolment code (401 is only stated for /login/2fa).
    assert.ok(resp.status() >= 400 && resp.status() < 500, `wrong enrolment code → 4xx, got ${resp.status()}`);
    assert.match(pathOf(page), /\/enroll\/[^/]+$/, 'still on the enrolment page');
    assert.equal(await alertText(page), 'The code you entered did not match what was expected. Please try again.');
    await expectServerTime(page);
  }
  await page.getByLabel('Enter the 6-digit code', { exact: true }).fill(await totp.code());
  resp = await submit(page, 'Submit');
  return { secret: shown, totp, otpauth, factorPath, resp };
}

/** The backup codes listed on the page. */
export async function backupCodesOnPage(page) {
  const codes = await page.locator('#backup-codes li').allInnerTexts();
  return codes.map((c) => c.trim());
}

export const BACKUP_CODE = /^[a-z0-9]{5}-[a-z0-9]{5}$/;

export const WRONG_CODE = 'The code you entered did not match what was expected. Please try again.';

/** Reads a file a download saved. */
export async function downloadText(download) {
  const p = await download.path();
  return readFile(p, 'utf8');
}

/** Security headers every response must carry. */
export function checkSecurityHeaders(headers, where) {
  const csp = headers['content-security-policy'];
  assert.ok(csp, `Content-Security-Policy on ${where}`);
  const directives = Object.fromEntries(
    csp
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [k, ...v] = d.split(/\s+/);
        return [k.toLowerCase(), v];
      }),
  );
  const scriptSrc = directives['script-src'] ?? directives['default-src'];
  assert.ok(scriptSrc, `CSP restricts scripts (script-src or default-src) on ${where}: ${csp}`);
  assert.ok(!scriptSrc.includes("'unsafe-inline'"), `CSP allows inline script on ${where}: ${csp}`);
  assert.ok(!scriptSrc.includes("'unsafe-eval'"), `CSP allows eval on ${where}: ${csp}`);
  assert.ok(!scriptSrc.includes('*'), `CSP allows scripts from anywhere on ${where}: ${csp}`);
  assert.equal((headers['x-frame-options'] || '').toUpperCase(), 'DENY', `X-Frame-Options on ${where}`);
  assert.ok(headers['referrer-policy'], `Referrer-Policy on ${where}`);
  assert.notEqual(headers['referrer-policy'], 'unsafe-url', `Referrer-Policy on ${where}`);
  assert.equal((headers['x-content-type-options'] || '').toLowerCase(), 'nosniff', `X-Content-Type-Options on ${where}`);
}

// --- The outbox ---------------------------------------------------------------------------------
// With no SMTP host (or the SMS provider `outbox`), each message the server sends is one file in
// `<data dir>/outbox/<unix>-<hex>.<eml|sms>`, written under a hidden name and renamed when whole.

/** The outbox folder of `server`. */
export function outboxDir(server) {
  return path.join(server.dataDir, 'outbox');
}

/** The names of the messages in the outbox with this extension, oldest first. */
export async function outboxFiles(server, ext = 'eml') {
  const dir = outboxDir(server);
  let names;
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.') && n.endsWith(`.${ext}`));
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  const withTime = await Promise.all(
    names.map(async (n) => ({ n, t: (await stat(path.join(dir, n), { bigint: true })).mtimeNs })),
  );
  withTime.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.n.localeCompare(b.n)));
  return withTime.map((x) => x.n);
}

/**
 * Reads one outbox message: {name, text, code}, the code being the 6 digits after the words
 * "code is" (quoted-printable soft line breaks removed first).
 */
export async function readOutboxCode(server, name) {
  const text = await readFile(path.join(outboxDir(server), name), 'utf8');
  const m = text.replace(/=\r?\n/g, '').match(/code is\D*?(\d{6})(?!\d)/);
  assert.ok(m, `no "code is" and 6 digits in ${name}:\n${text}`);
  return { name, text, code: m[1] };
}

/**
 * The one message that arrived in the outbox since `seen` (names from outboxFiles), with its
 * code; fails when none or several arrived.
 */
export async function newOutboxCode(server, seen, ext = 'eml') {
  const before = new Set(seen);
  const fresh = (await outboxFiles(server, ext)).filter((n) => !before.has(n));
  assert.equal(fresh.length, 1, `one new .${ext} in ${outboxDir(server)}, got ${JSON.stringify(fresh)}`);
  return readOutboxCode(server, fresh[0]);
}

// --- Languages ----------------------------------------------------------------------------------

const catalogues = new Map();

/**
 * The plain messages of a language's catalogue (crates/i18n/locales/TAG/*.ftl): id → text, for
 * messages without variants (their placeables left as written).
 */
export async function catalogue(tag) {
  if (catalogues.has(tag)) return catalogues.get(tag);
  const dir = path.join(ROOT, 'crates/i18n/locales', tag);
  const messages = new Map();
  for (const file of await readdir(dir)) {
    if (!file.endsWith('.ftl')) continue;
    let id = null;
    let parts = [];
    let plain = true;
    const flush = () => {
      if (id && plain) messages.set(id, parts.join(' ').trim());
      id = null;
    };
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      const start = /^([a-z][a-z0-9-]*) =\s?(.*)$/.exec(line);
      if (start) {
        flush();
        id = start[1];
        parts = [start[2]];
        plain = !start[2].trimStart().startsWith('{ $');
      } else if (id && /^\s+\S/.test(line)) {
        const t = line.trim();
        if (/^(\*?\[|\})/.test(t)) plain = false;
        parts.push(t);
      } else {
        flush();
      }
    }
    flush();
  }
  catalogues.set(tag, messages);
  return messages;
}

/**
 * What a page in language `tag` says where an English page says `english`: the texts of every
 * message whose English text is exactly that (usually one). Fails when English has no such text.
 */
export async function tr(tag, english) {
  const en = await catalogue('en');
  const ids = [...en].filter(([, text]) => text === english).map(([id]) => id);
  assert.ok(ids.length, `no English message reads ${JSON.stringify(english)}`);
  const other = await catalogue(tag);
  return [...new Set(ids.map((id) => other.get(id)).filter(Boolean))];
}

/** The first of `candidates` (texts) for which `make(text)` finds an element. */
export async function pick(make, candidates) {
  for (const c of candidates) {
    const loc = make(c);
    if ((await loc.count()) > 0) return loc.first();
  }
  assert.fail(`none of ${JSON.stringify(candidates)} found`);
}
