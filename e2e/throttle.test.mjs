// Wrong passwords are throttled (HTTP 429 after several failures), with the same answer for an
// unknown user, and never lock the account. Each case gets its own server: the throttle also
// counts per client IP, and every test here comes from 127.0.0.1.
import { describe, it, after } from 'node:test';
import { assert, Server, launchBrowser, newPage, pathOf, alertText, login, sleep } from './harness.mjs';

const MAX_ATTEMPTS = 30;

describe('password throttling', () => {
  let browser;
  const servers = [];
  after(async () => {
    await browser?.close();
    for (const s of servers) await s.stop();
  });

  async function hammer(server, user) {
    browser ??= await launchBrowser();
    const p = await newPage(browser, server);
    const statuses = [];
    let last;
    try {
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const resp = await login(p, { name: user, password: `wrong password ${i}` });
        statuses.push(resp.status());
        if (resp.status() === 429) {
          last = { alert: await alertText(p), retryAfter: resp.headers()['retry-after'], path: pathOf(p) };
          break;
        }
        assert.equal(resp.status(), 401, `attempt ${i + 1}`);
      }
    } finally {
      await p.context().close();
    }
    return { statuses, last };
  }

  it('wrong passwords get 429 after several failures, the same for unknown users, and never lock the account', async () => {
    const a = await Server.start({ name: 'throttle-known' });
    servers.push(a);
    await a.addUser('tom');
    const known = await hammer(a, 'tom');
    assert.ok(known.last, `no 429 after ${MAX_ATTEMPTS} wrong passwords: ${known.statuses}`);
    assert.match(known.last.alert, /^Too many failed attempts\./);
    assert.ok(known.statuses.length >= 3, `429 only after several failures, got it at attempt ${known.statuses.length}`);

    const b = await Server.start({ name: 'throttle-unknown' });
    servers.push(b);
    const unknown = await hammer(b, 'nobody-at-all');
    assert.ok(unknown.last, `no 429 for an unknown user after ${MAX_ATTEMPTS} attempts: ${unknown.statuses}`);
    assert.equal(unknown.statuses.length, known.statuses.length, 'an unknown user is throttled at the same point');
    assert.equal(unknown.last.alert.split('.')[0], known.last.alert.split('.')[0]);

    // Not locked: the account is neither disabled nor locked, and once the delay has passed the
    // right password works.
    const shown = await a.userJson('tom');
    const user = shown.user ?? shown;
    assert.notEqual(user.disabled, true, 'throttling does not disable the account');
    const wait = Number(known.last.retryAfter);
    if (Number.isFinite(wait) && wait <= 30) {
      await sleep(wait * 1000 + 500);
      browser ??= await launchBrowser();
      const p = await newPage(browser, a);
      try {
        const resp = await login(p, { name: 'tom', password: 'correct horse battery staple' });
        assert.equal(resp.status(), 200, `the right password after Retry-After (${wait}s) → ${resp.status()}`);
        assert.equal(pathOf(p), '/account/security');
      } finally {
        await p.context().close();
      }
    } else {
      // eslint-disable-next-line no-console
      console.log(`# Retry-After is ${known.last.retryAfter}: the right-password-after-the-delay check is skipped`);
    }
  });
});
