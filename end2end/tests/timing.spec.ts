// How long a signed-in issue list takes to show from a cold cache, printed (not asserted: speed belongs
// in figures, not in tests that flake). docs/performance.md records a run.
import { expect, test } from '@playwright/test';
import { newAccount, ready, signUp } from './helpers';

test('prints the time a signed-in list page takes to reach data-ready from a cold cache', async ({ page, browser }) => {
  await signUp(page, newAccount('timing'));
  const post = async (endpoint: string, form: Record<string, string>) => {
    const response = await page.request.post(`/api/${endpoint}`, { form });
    expect(response.status()).toBe(200);
    return response.json();
  };
  const project = await post('create_project', { 'input[name]': 'Timing', 'input[key]': 'TIME', 'input[visibility]': 'private' });
  for (let n = 1; n <= 60; n++) {
    await post('create_issue', { 'input[project_id]': project.id, 'input[fields][title]': `Issue ${n}` });
  }
  const cookies = await page.context().cookies();
  const timings: number[] = [];
  for (let run = 0; run < 3; run++) {
    // A new context each time: nothing cached.
    const context = await browser.newContext();
    await context.addCookies(cookies);
    const cold = await context.newPage();
    const started = Date.now();
    await cold.goto('/projects/TIME');
    // Only the attribute: `ready()` would add axe-core's own time to the figure.
    await expect(cold.locator('body')).toHaveAttribute('data-ready', 'true');
    timings.push(Date.now() - started);
    await expect(cold.getByRole('table').getByRole('row')).toHaveCount(51);
    await context.close();
  }
  console.log(`signed-in list page, cold cache, to data-ready: ${timings.join(' ms, ')} ms`);
});

// The front end's budget on the wire (issue 25; see docs/performance.md): each of the two bundles
// (app::bundles), its wasm and its loader as the server sends them to a browser that accepts brotli,
// at most 420 KB (420,000 bytes) together. The main bundle is what every visit loads; the settings
// bundle only the settings pages.
// Deterministic, so asserted.
for (const [bundle, address] of [
  ['main', '/'],
  ['settings', '/members'],
]) {
  test(`the ${bundle} bundle is within 420 KB of wasm and JS on the wire`, async ({ request }) => {
    const page = await (await request.get(address)).text();
    const assets = [
      ...page.matchAll(/href="((?:\/settings-bundle)?\/frontend(?:-settings)?-[0-9a-f]+(?:_bg\.wasm|\.js))"/g),
    ].map((m) => m[1]);
    expect(assets).toHaveLength(2);
    expect(assets.every((asset) => asset.startsWith('/settings-bundle/') === (bundle === 'settings'))).toBe(true);
    let total = 0;
    for (const asset of assets) {
      const response = await request.get(asset, { headers: { 'accept-encoding': 'br' } });
      expect(response.headers()['content-encoding']).toBe('br');
      total += Number(response.headers()['content-length']);
    }
    console.log(`${bundle} bundle, wasm and JS on the wire (brotli): ${total} bytes`);
    expect(total).toBeLessThanOrEqual(420_000);
  });
}
