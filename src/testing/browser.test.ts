import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { checkAccessibility, launchBrowser, saveScreenshot } from './browser.js';

describe('the browser fixture', () => {
  let browser: Browser;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    server = createServer((req, res) => {
      const accessible = req.url === '/good';
      res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': "default-src 'none'" });
      res.end(accessible
        ? '<!doctype html><html lang="en"><head><title>ok</title></head><body><main><h1>Fine</h1><img src="data:," alt="a dot"></main></body></html>'
        : '<!doctype html><html><head><title>bad</title></head><body><img src="data:,"><input type="text"></body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads a page, saves a screenshot, and finds no serious accessibility violation on a good page', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/good`);
    expect(await page.textContent('h1')).toBe('Fine');
    expect(await saveScreenshot(page, 'fixture-good')).toMatch(/fixture-good\.png$/);
    expect(await checkAccessibility(page)).toEqual([]);
  });

  it('reports serious violations (an image without alt, an unlabelled input) despite a strict CSP', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/bad`);
    const ids = (await checkAccessibility(page)).map((v) => v.id).sort();
    expect(ids).toEqual(expect.arrayContaining(['image-alt', 'label']));
  });
});
