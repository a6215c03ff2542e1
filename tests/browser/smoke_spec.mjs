// Spec for test_browser_smoke.py: fill the form, click, wait for the JS-driven text, report.
import { requireEnv, runSpec, waitForText } from './lib.mjs';

await runSpec('smoke', async ({ page, baseURL, log }) => {
  const user = requireEnv('SMOKE_USER');
  await page.goto(`${baseURL}/`);
  await page.fill('#username', user);
  await page.fill('#password', requireEnv('SMOKE_PASSWORD'));
  await page.click('#go');
  const status = await waitForText(page.locator('#status'), `Hello, ${user}`);
  const title = await page.title();
  log('status is', status);
  return { status, title };
});
