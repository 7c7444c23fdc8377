// Drives Debian's headless Chromium for tests/support/browser.py: launches one browser
// and plays jobs read from stdin, one JSON object a line, each in a fresh browser context;
// answers each with one JSON line on stdout. Exits (closing the browser) at end of input.
//
//   node tests/browser/driver.cjs <node_modules dir>
//
// A job: {pageUrl, thresholdS, loadTimeoutMs, rungTimeoutMs}. pageUrl names the player
// and the manifest (see player.js). The answer: {player, rungs, start, results, errors,
// events, console, requests}, with {error} when the page never got as far as its rungs.
// Each rung is played only once playback has started, and none after one that failed.
"use strict";

const path = require("path");
const readline = require("readline");

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
];

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function play(browser, job) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLines = [];
  const requests = [];
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.stack || error}`));
  page.on("response", (response) => {
    const request = response.request();
    const headers = response.headers();
    requests.push({
      url: response.url(),
      method: request.method(),
      status: response.status(),
      acao: headers["access-control-allow-origin"] || null,
      redirectedFrom: request.redirectedFrom() ? request.redirectedFrom().url() : null,
    });
  });
  page.on("requestfailed", (request) =>
    requests.push({ url: request.url(), method: request.method(), failure: request.failure().errorText }),
  );
  const answer = { console: consoleLines, requests };
  try {
    await page.goto(job.pageUrl, { timeout: job.loadTimeoutMs });
    const rungs = await withTimeout(
      page.evaluate(async () => {
        // Give up early on a fatal error (e.g. the manifest was refused).
        for (;;) {
          if (window.reels.errors.some((e) => e.fatal)) return null;
          const listed = await Promise.race([
            window.reels.rungs(),
            new Promise((resolve) => setTimeout(() => resolve(undefined), 200)),
          ]);
          if (listed !== undefined) return listed;
        }
      }),
      job.loadTimeoutMs,
      "the player's rungs",
    );
    answer.player = await page.evaluate(() => window.reels.player);
    answer.rungs = rungs || [];
    answer.results = [];
    answer.start = await page.evaluate((options) => window.reels.start(options), {
      timeoutMs: job.loadTimeoutMs,
    });
    for (const rung of answer.start.ok ? answer.rungs : []) {
      const result = await page.evaluate(
        ({ rung, options }) => window.reels.playRung(rung, options),
        { rung, options: { thresholdS: job.thresholdS, timeoutMs: job.rungTimeoutMs } },
      );
      answer.results.push(result);
      if (!result.ok) break;
    }
  } catch (error) {
    answer.error = String(error && error.stack ? error.stack : error);
  }
  try {
    const state = await withTimeout(
      page.evaluate(() => ({ errors: window.reels.errors, events: window.reels.events })),
      10000,
      "the page's log",
    );
    Object.assign(answer, state);
  } catch (error) {
    answer.errors = [{ source: "driver", fatal: true, message: String(error) }];
  }
  await context.close();
  return answer;
}

async function main() {
  const [modules] = process.argv.slice(2);
  const { chromium } = require(path.join(modules, "playwright-core"));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // playwright-core adds its own --headless and --user-data-dir (a fresh temporary one).
    headless: true,
    args: FLAGS.filter((flag) => flag !== "--headless"),
    timeout: 120000,
  });
  const out = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
  out({ ready: true, version: browser.version() });
  try {
    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      out(await play(browser, JSON.parse(line)));
    }
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
