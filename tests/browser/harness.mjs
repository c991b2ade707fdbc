// The browser tests' harness: a real `tusach serve` on free ports over a temporary data
// folder, and Debian's Chromium driven by playwright-core (no downloaded browsers).
//
// TUSACH_BIN overrides the binary (default: the workspace's debug build); CHROMIUM overrides
// the browser (default: /usr/bin/chromium).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const here = new URL(".", import.meta.url).pathname;
const targetDir = process.env.CARGO_TARGET_DIR || resolve(here, "../../target");
export const tusachBin = process.env.TUSACH_BIN || join(targetDir, "debug/tusach");

/// Starts `tusach serve` (with `--demo` unless told otherwise) and resolves once it says where
/// it listens. `startup` holds what it printed before that (the first admin's password).
export async function startServer({ demo = true, timeoutMs = 600_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tusach-browser-"));
  const args = ["--data", join(dir, "data"), "serve", "--listen", "127.0.0.1:0",
    "--sync-listen", "127.0.0.1:0"];
  if (demo) args.push("--demo");
  const child = spawn(tusachBin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const startup = [];
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const found = line.match(/Tủ Sách is running: (http:\/\/\S+)/);
        if (found) {
          clearTimeout(timer);
          resolveUrl(found[1]);
        } else {
          startup.push(line);
        }
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}\n${stderr}`));
    });
  });
  return {
    url,
    startup,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.on("exit", done);
        setTimeout(() => { child.kill("SIGKILL"); done(); }, 10_000);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// Debian's Chromium, headless, with the flags a container without a GPU or a sandbox needs.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-extensions",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/// A phone-sized page (a cheap Android phone: 360 × 740, touch).
export async function phonePage(browser) {
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: "vi-VN",
  });
  return context.newPage();
}
