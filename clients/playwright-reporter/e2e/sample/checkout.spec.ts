import { expect, test } from '@playwright/test';

const run = Number(process.env.MOTH_SAMPLE_RUN ?? '1');

/** The start of a WebM file (its EBML header). It stands in for Playwright's own recording
 * (`video: 'on'`), which needs Playwright's ffmpeg build, not available on these machines. */
function webm(): Buffer {
  const header = [0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0x82, 0x84];
  return Buffer.concat([Buffer.from(header), Buffer.from('webm'), Buffer.alloc(64)]);
}

test.describe('checkout', () => {
  test('shows the total', async ({ page }) => {
    await page.setContent('<h1>Total: 12 €</h1>');
    await expect(page.getByRole('heading')).toHaveText('Total: 12 €');
  });

  test('pays by card', async ({ page }, info) => {
    await info.attach('video', { body: webm(), contentType: 'video/webm' });
    await page.setContent('<h1>Payment declined</h1>');
    await test.step('the receipt is shown', async () => {
      const expected = run >= 3 ? 'Payment declined' : 'Receipt';
      await expect(page.getByRole('heading')).toHaveText(expected, { timeout: 1_000 });
    });
  });

  test('loads the basket', async ({ page }, info) => {
    await page.setContent('<h1>Basket</h1>');
    expect(info.retry, 'fails on its first attempt, passes on the retry').toBeGreaterThan(0);
  });
});
