// Helpers for browser specs run by tests/browser/browser_harness.py::run_browser_script.
//
// A spec is an ES module that calls runSpec() once:
//
//   import { runSpec, requireEnv, waitForText } from './lib.mjs';
//   await runSpec('login', async ({ page, baseURL, log }) => {
//     await page.goto(baseURL + '/login');
//     await page.fill('#username', requireEnv('ANALYST_USER'));
//     await page.click('button[type=submit]');
//     await waitForText(page.locator('#status'), 'Signed in');
//     return { user: requireEnv('ANALYST_USER') };   // merged into the final {"ok": true, ...} line
//   });
//
// runSpec launches headless Chromium, hands the callback a page whose default timeout is
// BROWSER_TIMEOUT_MS (5000), prints exactly one final JSON line ({"ok": true, ...} or
// {"ok": false, "error": ..., "screenshot": ...}), saves a screenshot into BROWSER_ARTIFACTS_DIR
// on failure, closes the browser and sets the exit code. Log with log() (stderr), never with
// console.log: stdout is reserved for the result line.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

// ES `import` ignores NODE_PATH; CommonJS require() honours it, and the harness points NODE_PATH
// at build/node/node_modules (playwright-core is installed there, never next to the specs).
const require = createRequire(import.meta.url);
let playwright;
try {
  playwright = require('playwright-core');
} catch (err) {
  process.stdout.write(JSON.stringify({
    ok: false,
    error: `cannot load playwright-core (NODE_PATH=${process.env.NODE_PATH ?? ''}): ${err.message}`,
  }) + '\n');
  process.exit(2);
}
export const { chromium } = playwright;

export function requireEnv(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function log(...args) {
  process.stderr.write(`[spec] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
}

// Flags for Debian's Chromium as root on a machine with a closed network: no sandbox (root),
// /tmp instead of a small /dev/shm, no GPU, and no background calls home.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(options = {}) {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    timeout: options.launchTimeoutMs ?? 30000,
  });
}

export async function newPage(browser, options = {}) {
  const timeoutMs = options.timeoutMs ?? Number(process.env.BROWSER_TIMEOUT_MS || 5000);
  const context = await browser.newContext({ baseURL: options.baseURL ?? process.env.BASE_URL, ...options.context });
  context.setDefaultTimeout(timeoutMs);
  context.setDefaultNavigationTimeout(Math.max(timeoutMs, 10000));
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'verbose' && msg.type() !== 'debug') log(`console.${msg.type()}:`, msg.text());
  });
  page.on('pageerror', (err) => log('pageerror:', err.message));
  page.on('requestfailed', (req) => log('requestfailed:', req.method(), req.url(), req.failure()?.errorText ?? ''));
  return { context, page };
}

// Wait until the locator's text content contains `expected` (string) or matches it (RegExp).
export async function waitForText(locator, expected, options = {}) {
  const timeout = options.timeout ?? Number(process.env.BROWSER_TIMEOUT_MS || 5000);
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    last = await locator.textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => last);
    const hit = expected instanceof RegExp ? expected.test(last ?? '') : (last ?? '').includes(expected);
    if (hit) return last;
    if (Date.now() > deadline) {
      throw new Error(`waitForText: ${locator} never showed ${JSON.stringify(String(expected))}; last text ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function artifactPath(name) {
  const dir = process.env.BROWSER_ARTIFACTS_DIR || 'build/browser-artifacts';
  mkdirSync(dir, { recursive: true });
  const test = (process.env.BROWSER_TEST_NAME || '').replace(/[^A-Za-z0-9_.-]+/g, '_');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.resolve(dir, `${[test, name].filter(Boolean).join('__')}__${stamp}.png`);
}

function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

// Run one spec body; see the header comment. Returns nothing: the outcome is the JSON line + exit code.
export async function runSpec(name, body, options = {}) {
  let browser = null;
  let page = null;
  let result;
  try {
    browser = await launchBrowser(options);
    ({ page } = await newPage(browser, options));
    const baseURL = process.env.BASE_URL;
    const extra = (await body({ browser, page, context: page.context(), baseURL, env: process.env, log })) ?? {};
    result = { ok: true, spec: name, ...extra };
  } catch (err) {
    result = { ok: false, spec: name, error: String(err?.stack || err) };
    if (page) {
      try {
        const file = artifactPath(name);
        await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
        result.screenshot = file;
        result.url = page.url();
      } catch (shotErr) {
        result.screenshot_error = String(shotErr?.message || shotErr);
      }
    }
  } finally {
    if (browser) await browser.close().catch((e) => log('browser.close failed:', e.message));
  }
  emit(result);
  process.exitCode = result.ok ? 0 : 1;
}
