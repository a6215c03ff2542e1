// Acceptance (issue #4): an analyst claims the top alert and blocks it; a second analyst approves it (four-eyes).
// Driven the way analysts work: keyboard first. Prints the alert id; the Python test checks the backend.
import { log, requireEnv, runSpec, waitForText } from '../browser/lib.mjs';

async function signIn(page, user, password) {
  await page.goto('/');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.locator('#queue-rows tr').first().waitFor();
}

await runSpec('console-four-eyes', async ({ page, log: say }) => {
  const password = requireEnv('CONSOLE_PASSWORD');
  await signIn(page, requireEnv('ANALYST'), password);

  // the top alert of the queue, opened with Enter
  const topId = (await page.locator('#queue-rows tr').first().locator('td.mono').first().innerText()).trim();
  say('top alert', topId);
  await page.keyboard.press('Enter');
  await waitForText(page.locator('.detail-head'), topId);

  await page.keyboard.press('c');
  await waitForText(page.locator('.detail-head .badge'), 'claimed');

  await page.keyboard.press('b');
  await page.locator('#reason-text').waitFor();
  await page.fill('#reason-text', 'mule pattern: new payee, new device, amount at the limit');
  await page.keyboard.press('Control+Enter');
  const pending = await waitForText(page.locator('.banner').first(), 'A second person must approve it.');

  // the proposer cannot approve: the console offers no approve action to them
  const approveOffered = await page.locator('button.ok', { hasText: 'Approve' }).count();

  await page.click('#logout');
  await page.locator('#login-user').waitFor();
  await signIn(page, requireEnv('APPROVER'), password);
  await page.goto(`/#/queue/${encodeURIComponent(topId)}`);
  await waitForText(page.locator('.banner').first(), 'You may approve or reject it.');
  await page.keyboard.press('a');
  const closed = await waitForText(page.locator('.banner.done'), 'approved by');
  log('closed banner', closed);
  return { alert_id: topId, pending_banner: pending, closed_banner: closed, approve_offered_to_proposer: approveOffered };
});
