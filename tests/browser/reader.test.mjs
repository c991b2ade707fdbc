// A reader on a phone-sized screen searches without accents and opens a record; the page
// renders in Vietnamese and in English.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, phonePage } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a reader finds Nguyễn Du by typing 'nguyen du' and opens a record", async () => {
  const page = await phonePage(browser);
  await page.goto(`${server.url}/`);
  assert.equal(await page.getAttribute("html", "lang"), "vi");
  await page.fill("input[name=q]", "nguyen du");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/search\?/);
  const firstResult = page.locator("ol li a").first();
  await firstResult.waitFor();
  const results = await page.locator("ol li").allTextContents();
  assert.ok(results.length > 0, "no results");
  assert.ok(results.some((r) => r.includes("Nguyễn Du")), `no Nguyễn Du in ${results.slice(0, 3)}`);
  const title = (await firstResult.textContent()).trim();
  await firstResult.click();
  await page.waitForURL(/\/records\//);
  assert.equal((await page.locator("h1").textContent()).trim(), title);
  // Touch targets: the search button is at least 44 px tall on a phone.
  await page.goto(`${server.url}/search`);
  const box = await page.locator("button[type=submit]").first().boundingBox();
  assert.ok(box.height >= 44, `search button is ${box.height} px tall`);
});

test("both languages render", async () => {
  const page = await phonePage(browser);
  await page.goto(`${server.url}/search?q=nguyen+du`);
  assert.equal(await page.getAttribute("html", "lang"), "vi");
  assert.match(await page.locator("body").textContent(), /kết quả/);
  await page.click("header a.lang");
  await page.waitForURL(/lang=en/);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.match(await page.locator("body").textContent(), /results/);
  // The choice sticks: the next page without ?lang is still English.
  await page.goto(`${server.url}/search?q=nguyen+du`);
  assert.equal(await page.getAttribute("html", "lang"), "en");
});
