// Drives hls.js in headless Chromium for bench_abr.py: opens the player page (another
// origin than the gateway), lets it play, throttles the network through the DevTools
// protocol, lifts the throttle, and prints the page's event log as JSON on stdout.
//
//   node bench/abr_player.cjs <node_modules dir> <json options>
//
// Options: pageUrl, manifestUrl, warmupMs, throttledMs, recoveryMs, dropKbps, latencyMs.
"use strict";

const path = require("path");

async function main() {
  const [modules, raw] = process.argv.slice(2);
  const options = JSON.parse(raw);
  const { chromium } = require(path.join(modules, "playwright-core"));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  try {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    // The page's clock stamps every event; phases are stamped on the same clock.
    const now = () => page.evaluate(() => performance.now());
    const throttle = (kbps, latency) =>
      cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency,
        downloadThroughput: kbps < 0 ? -1 : (kbps * 1000) / 8,
        uploadThroughput: kbps < 0 ? -1 : (kbps * 1000) / 8,
      });
    const consoleLines = [];
    page.on("console", (message) => consoleLines.push(message.text()));
    await page.goto(`${options.pageUrl}#${encodeURIComponent(options.manifestUrl)}`);
    await page.waitForFunction(() => window.__abr && window.__abr.playing, null, {
      timeout: 60000,
    });
    const phases = { playing: await now() };
    await page.waitForTimeout(options.warmupMs);
    phases.drop = await now();
    await throttle(options.dropKbps, options.latencyMs);
    await page.waitForTimeout(options.throttledMs);
    phases.restore = await now();
    await throttle(-1, 0);
    await page.waitForTimeout(options.recoveryMs);
    phases.end = await now();
    const log = await page.evaluate(() => window.__abr);
    process.stdout.write(JSON.stringify({ phases, log, console: consoleLines }));
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
