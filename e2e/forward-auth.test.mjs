// Forward authentication in a real browser: Debian's nginx, with the very configuration the README
// shows (examples/forward-auth/nginx.conf), in front of a small application that echoes the
// Remote-* headers it gets. Chromium resolves *.example.test to 127.0.0.1 (--host-resolver-rules),
// so the application (app.example.test) and the portal (auth.example.test) are two hosts under
// one cookie domain, both behind nginx.
import { describe, it, before, after } from 'node:test';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  assert, sleep, ROOT, Server, launchBrowser, newPage, submit, expectH1, expectText, checkPage, enterCode,
} from './harness.mjs';

const RULES = `
[[access]]
domain = "app.example.test"
paths = ["/public"]
policy = "bypass"

[[access]]
domain = "app.example.test"
paths = ["/wiki"]
policy = "one_factor"

[[access]]
domain = "app.example.test"
paths = ["/private"]
policy = "deny"

[[access]]
domain = "app.example.test"
paths = ["/admin"]
roles = ["admin", "owner"]
policy = "two_factor"

[[access]]
domain = "app.example.test"
paths = ["/admin"]
policy = "deny"

[[access]]
domain = "app.example.test"
policy = "two_factor"
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, what) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await sleep(50);
  }
}

/** The application: a page naming the path and the Remote-* headers it received. */
function startApp() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, user: req.headers['remote-user'] });
    const esc = (v) => String(v ?? '(none)').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html lang="en"><head><title>The application</title></head><body><main>` +
        `<h1>The application</h1><p id="path">${esc(req.url)}</p>` +
        `<p id="user">${esc(req.headers['remote-user'])}</p>` +
        `<p id="email">${esc(req.headers['remote-email'])}</p>` +
        `<p id="role">${esc(req.headers['remote-role'])}</p></main></body></html>`,
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port })));
}

/** Debian's nginx with examples/forward-auth/nginx.conf, its placeholders filled in. */
async function startNginx(dir, { port, twofold, upstream }) {
  const example = await readFile(path.join(ROOT, 'examples/forward-auth/nginx.conf'), 'utf8');
  const site = example
    .replaceAll('LISTEN_PORT', `127.0.0.1:${port}`)
    .replaceAll('APP_HOST', 'app.example.test')
    .replaceAll('AUTH_HOST', 'auth.example.test')
    .replaceAll('TWOFOLD_ADDRESS', twofold)
    .replaceAll('APP_UPSTREAM', upstream);
  await writeFile(path.join(dir, 'twofold.conf'), site);
  await mkdir(path.join(dir, 'temp'), { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/temp/${t};`)
    .join('\n');
  const main = [
    process.getuid?.() === 0 ? 'user root root;' : '',
    'daemon off;',
    'master_process off;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    temp,
    `  include ${dir}/twofold.conf;`,
    '}',
  ].join('\n');
  await writeFile(path.join(dir, 'nginx.conf'), main);
  const child = spawn('nginx', ['-e', `${dir}/error.log`, '-p', dir, '-c', `${dir}/nginx.conf`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await waitForPort(port, child, 'nginx');
  } catch (e) {
    const log = await readFile(`${dir}/error.log`, 'utf8').catch(() => '');
    throw new Error(`${e.message}: ${stderr}${log}`);
  }
  return child;
}

describe('forward authentication behind nginx', () => {
  let server, browser, app, nginx, dir, APP, AUTH;
  const u = {};

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'twofold-e2e-nginx-'));
    const nginxPort = await freePort();
    APP = `http://app.example.test:${nginxPort}`;
    AUTH = `http://auth.example.test:${nginxPort}`;
    const config = path.join(dir, 'twofold.toml');
    await writeFile(config, RULES);
    server = await Server.start({
      name: 'forward-auth',
      extraEnv: {
        TWOFOLD_CONFIG: config,
        TWOFOLD_PUBLIC_URL: AUTH,
        TWOFOLD_COOKIE_DOMAIN: 'example.test',
        TWOFOLD_TRUSTED_PROXIES: '127.0.0.1',
      },
    });
    app = await startApp();
    nginx = await startNginx(dir, {
      port: nginxPort,
      twofold: new URL(server.url).host,
      upstream: `127.0.0.1:${app.port}`,
    });
    // One user a test: each sign-in then takes the next TOTP step at once, with no wait.
    for (const name of ['cora', 'wren', 'dora', 'bree', 'eli', 'fay', 'gus']) {
      u[name] = await server.addUser(name, { email: `${name}@example.com` });
      await server.enrolTotpApi(u[name], 'phone');
    }
    u.ada = await server.addUser('ada', { role: 'admin' });
    await server.enrolTotpApi(u.ada, 'phone');
    // The second-factor page offers "Remember this browser for 30 days" (ticked by one test only).
    await server.set('remember.days', 30);
    browser = await launchBrowser({ args: ['--host-resolver-rules=MAP *.example.test 127.0.0.1'] });
  });

  after(async () => {
    await browser?.close();
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGTERM');
      await Promise.race([nginx.exited, sleep(5000)]);
      if (nginx.exitCode === null) nginx.kill('SIGKILL');
    }
    await new Promise((r) => (app ? app.server.close(r) : r()));
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function page(t) {
    const p = await newPage(browser, server, { allowOrigins: [APP, AUTH] });
    t.after(() => p.context().close());
    return p;
  }

  /** Fills the portal's login form the browser was sent to. */
  async function password(p, user) {
    assert.equal(new URL(p.url()).origin, AUTH, `on the portal: ${p.url()}`);
    await expectH1(p, 'Log in');
    await p.getByLabel('Username', { exact: true }).fill(user.name);
    await p.getByLabel('Password', { exact: true }).fill(user.password);
    return submit(p, 'Log in');
  }

  /** Signs in all the way from the application's URL `url`; ends back on it. */
  async function signIn(p, user, url) {
    await p.goto(url);
    await password(p, user);
    assert.equal(new URL(p.url()).pathname, '/login/2fa');
    const resp = await enterCode(p, await user.totp.code());
    assert.equal(p.url(), url);
    return resp;
  }

  async function shown(p) {
    const text = async (id) => (await p.locator(`#${id}`).innerText()).trim();
    return { path: await text('path'), user: await text('user'), email: await text('email'), role: await text('role') };
  }

  it('the application sends a visitor to the portal and gets them back signed in, with Remote-User', async (t) => {
    const p = await page(t);
    const url = `${APP}/notes/today?sort=new`;
    await p.goto(url);
    const login = new URL(p.url());
    assert.equal(login.origin, AUTH);
    assert.equal(login.pathname, '/login');
    assert.equal(login.searchParams.get('next'), url);
    await checkPage(p, 'forward-auth-login');
    await password(p, u.cora);
    await expectH1(p, 'Two-factor authentication');
    const resp = await enterCode(p, await u.cora.totp.code());
    assert.equal(resp.status(), 200);
    assert.equal(p.url(), url, 'back on the application');
    assert.deepEqual(await shown(p), {
      path: '/notes/today?sort=new',
      user: 'cora',
      email: 'cora@example.com',
      role: 'client',
    });
    // The session cookie is the cookie domain's, HttpOnly and SameSite=Lax (not Secure: http).
    const cookies = (await p.context().cookies()).filter((c) => c.name === 'tf_session');
    assert.equal(cookies.length, 1, JSON.stringify(cookies));
    assert.equal(cookies[0].domain, '.example.test');
    assert.equal(cookies[0].httpOnly, true);
    assert.equal(cookies[0].sameSite, 'Lax');
    // Another page of the application passes at once.
    await p.goto(`${APP}/other`);
    assert.equal((await shown(p)).user, 'cora');
  });

  it('a one_factor path asks no code; a two_factor path then asks for it', async (t) => {
    const p = await page(t);
    await p.goto(`${APP}/wiki/start`);
    await password(p, u.wren);
    assert.equal(p.url(), `${APP}/wiki/start`, 'straight back, no code asked');
    assert.equal((await shown(p)).user, 'wren');
    // The rest of the application asks for the second factor, then lets the same session in.
    await p.goto(`${APP}/notes`);
    assert.equal(new URL(p.url()).origin, AUTH);
    await expectH1(p, 'Two-factor authentication');
    await enterCode(p, await u.wren.totp.code());
    assert.equal(p.url(), `${APP}/notes`);
    assert.equal((await shown(p)).user, 'wren');
  });

  it('a deny path is 403; a client meets a rule for admins only and is refused, an admin passes', async (t) => {
    const p = await page(t);
    await signIn(p, u.dora, `${APP}/`);
    const seen = app.seen.length;
    let resp = await p.goto(`${APP}/private/report`);
    assert.equal(resp.status(), 403);
    resp = await p.goto(`${APP}/admin/users`);
    assert.equal(resp.status(), 403, 'a client on the admins-only path');
    assert.equal(app.seen.length, seen, 'the application saw neither request');

    const q = await page(t);
    await signIn(q, u.ada, `${APP}/admin/users`);
    assert.deepEqual(await shown(q), { path: '/admin/users', user: 'ada', email: '(none)', role: 'admin' });
  });

  it('a bypass path needs no session, and a Remote-User the browser sends never reaches the application', async (t) => {
    const p = await page(t);
    await p.context().setExtraHTTPHeaders({ 'Remote-User': 'ada', 'Remote-Role': 'owner' });
    let resp = await p.goto(`${APP}/public/about`);
    assert.equal(resp.status(), 200);
    assert.deepEqual(await shown(p), { path: '/public/about', user: '(none)', email: '(none)', role: '(none)' });
    await p.goto(`${APP}/notes`);
    await password(p, u.bree);
    await enterCode(p, await u.bree.totp.code());
    assert.equal(p.url(), `${APP}/notes`);
    const who = await shown(p);
    assert.equal(who.user, 'bree', 'nginx replaced the forged header');
    assert.equal(who.role, 'client');
    resp = await p.goto(`${APP}/public/about`);
    assert.equal((await shown(p)).user, '(none)', 'a bypass rule names nobody');
  });

  it('a path with a dot segment is refused before it reaches the application', async (t) => {
    const p = await page(t);
    await signIn(p, u.eli, `${APP}/`);
    const seen = app.seen.length;
    // Chromium would resolve a literal `..` itself; encoded ones reach nginx as they are.
    for (const trick of ['/public/%2e%2e/admin/users', '/public/..%2Fadmin/users']) {
      const resp = await p.goto(`${APP}${trick}`);
      assert.ok(resp.status() >= 400, `${trick}: ${resp.status()}`);
    }
    assert.equal(app.seen.length, seen, 'the application saw none of them');
  });

  it('"Remember this browser" skips the code for the application next time; "Forget" brings it back', async (t) => {
    const p = await page(t);
    const url = `${APP}/notes`;
    const signOut = async () => {
      await p.goto(`${AUTH}/logout`);
      await submit(p, 'Log out', { within: '#main' });
      await p.goto(url);
      assert.equal(new URL(p.url()).pathname, '/login', 'signed out: the application asks again');
    };
    await p.goto(url);
    await password(p, u.gus);
    await p.getByLabel('Remember this browser for 30 days', { exact: true }).check();
    await enterCode(p, await u.gus.totp.code());
    assert.equal(p.url(), url);
    assert.equal((await shown(p)).user, 'gus');

    // Signed out and in again: the password alone lets the application in (a two_factor rule).
    await signOut();
    await password(p, u.gus);
    assert.equal(p.url(), url, 'no code asked');
    assert.equal((await shown(p)).user, 'gus');

    // Forget it on Security Settings: the next sign-in asks for the code again.
    await p.goto(`${AUTH}/account/security`);
    const rows = p.locator('#browsers tbody tr');
    assert.equal(await rows.count(), 1);
    await submit(p, rows.first().getByRole('button', { name: /^Forget / }));
    await expectText(p, 'That browser is forgotten');
    await signOut();
    await password(p, u.gus);
    assert.equal(new URL(p.url()).pathname, '/login/2fa', 'the code is asked again');
    await enterCode(p, await u.gus.totp.code());
    assert.equal(p.url(), url);
  });

  it('signing out on the portal makes the application ask again', async (t) => {
    const p = await page(t);
    await signIn(p, u.fay, `${APP}/notes`);
    await p.goto(`${AUTH}/logout?next=${encodeURIComponent(`${APP}/notes`)}`);
    await expectText(p, 'Every application that relies on this sign-in will ask you to sign in again.');
    await submit(p, 'Log out', { within: '#main' });
    // Back on the application, which now sends the browser to the login.
    const login = new URL(p.url());
    assert.equal(login.origin, AUTH);
    assert.equal(login.pathname, '/login');
    assert.equal(login.searchParams.get('next'), `${APP}/notes`);
    await p.goto(`${APP}/other`);
    assert.equal(new URL(p.url()).pathname, '/login', 'still signed out');
  });
});
