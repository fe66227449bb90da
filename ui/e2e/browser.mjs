// Debian's chromium driven by playwright-core (a test tool's own browser
// download does not work on a closed network). Playwright gives every
// launch its own fresh profile directory.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { uiDir } from "./node.mjs";

export const screenshotDir = process.env.UI_SCREENSHOT_DIR ?? resolve(uiDir, "../build/ui-e2e");

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return browser;
}

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** WCAG 2 A/AA violations axe-core finds on the page as it is now. axe is
 * evaluated by the driver, not added as a <script>: the page's content
 * security policy refuses inline scripts, as it should. `iframes: false`
 * leaves out frames that are not the shop's (Stripe's card fields). */
export async function accessibilityViolations(page, { iframes = true } = {}) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(
    (iframes) =>
      window.axe.run(document, { iframes, runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] } }),
    iframes,
  );
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
