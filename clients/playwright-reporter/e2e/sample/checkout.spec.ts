import { expect, test } from '@playwright/test';

const run = Number(process.env.MOTH_SAMPLE_RUN ?? '1');

test.describe('checkout', () => {
  test('shows the total', async ({ page }) => {
    await page.setContent('<h1>Total: 12 €</h1>');
    await expect(page.getByRole('heading')).toHaveText('Total: 12 €');
  });

  test('pays by card', async ({ page }) => {
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
