// Browser test of ringfenced's web dashboard, in Debian's headless Chromium
// driven by playwright-core. Called by tests/integration/test_dashboard_browser.py,
// which sets up the server, real agents, a halted rollout and an active one:
//   node dashboard.mjs CONFIG.json
// CONFIG: {"url", "viewer", "release", "halted", "active", "screenshots"}.
// Checks: a viewer sees the fleet, the halted rollout with its chart, the halt
// marked and its events, and no controls (and the API answers 403 when the
// viewer's token tries a promote anyway); a release user promotes the active
// rollout through a confirmation, and a cancelled confirmation changes nothing.
// No page may log an error (a Content-Security-Policy refusal would), and no
// request URL may carry a token. Prints one JSON line; exits 0 when all pass.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const steps = [];
const problems = [];
let expect403 = false; // the viewer's deliberate promote logs a 403 in the console

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  steps.push(what);
}

async function shot(page, name) {
  const file = path.join(cfg.screenshots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  steps.push(`screenshot ${file}`);
}

function watch(page, label) {
  page.on("console", (m) => {
    if (m.type() === "error" && !(expect403 && m.text().includes("403"))) {
      problems.push(`${label} console: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => problems.push(`${label} page error: ${e.message}`));
  page.on("request", (r) => {
    for (const t of [cfg.viewer, cfg.release]) {
      if (r.url().includes(t)) problems.push(`${label}: a request URL carries a token: ${r.url()}`);
    }
  });
}

async function signIn(page, token) {
  await page.goto(cfg.url + "/", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#overview:not([hidden])");
}

async function viewer(ctx) {
  const page = await ctx.newPage();
  watch(page, "viewer");
  await signIn(page, cfg.viewer);
  check(!page.url().includes(cfg.viewer), "the token is not in the page URL");
  check(await page.evaluate(() => sessionStorage.getItem("ringfence.token") !== null),
    "the token is kept in sessionStorage");
  check(await page.evaluate(() => localStorage.length === 0 && document.cookie === ""),
    "nothing is kept in localStorage or cookies");
  await page.waitForSelector("#fleet-table tbody tr");
  check((await page.locator("#fleet-table tbody tr").count()) > 0, "the fleet table has rows");
  const card = page.locator(`.rollout-card[data-rollout="${cfg.halted}"]`);
  await card.waitFor();
  const state = await card.locator(".state").first().textContent();
  check(state === "reverted" || state === "halted", `the overview shows rollout ${cfg.halted} ${state}`);
  check((await card.locator(".bar").count()) > 0, "the overview shows per-ring progress bars");
  await page.waitForSelector("#overview-events li");
  await shot(page, "overview-viewer");

  await page.goto(`${cfg.url}/#/rollouts/${cfg.halted}`);
  await page.waitForSelector('#charts .chart[data-stage="0"] canvas');
  check(await page.locator("#rollout-halt").isVisible(), "the halt is shown");
  const note = await page.locator('#charts .chart[data-stage="0"] .note').textContent();
  check(note.startsWith("Halted at"), `the stage 0 chart marks the halt: ${note}`);
  // the time axis spans the rollout, not years (uPlot widens a one-point domain by itself)
  await page.waitForSelector('#charts .chart[data-stage="0"][data-x-max]');
  const span = await page.locator('#charts .chart[data-stage="0"]').evaluate(
    (el) => [Number(el.dataset.xMin), Number(el.dataset.xMax)]);
  const haltAt = Date.parse(note.match(/Halted at (\S+)/)[1]) / 1000;
  check(span[1] - span[0] > 0 && span[1] - span[0] <= 3600 && haltAt >= span[0] && haltAt <= span[1],
    `the chart's time axis spans the rollout and its halt: ${span} (halt ${haltAt})`);
  const legend = await page.locator('#charts .chart[data-stage="0"] .u-legend').textContent();
  check(legend.includes("failure rate") && legend.includes("control") &&
    legend.includes("halt threshold"), "the chart plots failure rate, control and threshold");
  await page.waitForSelector('#rollout-events li[data-kind="rollout.halted"]');
  check((await page.locator('#rollout-events li[data-kind="device.failed"]').count()) > 0,
    "the events timeline shows the failed devices");
  check(!(await page.locator("#controls").isVisible()), "a viewer sees no controls");
  await shot(page, "rollout-halted-viewer");

  await page.goto(`${cfg.url}/#/rollouts/${cfg.active}`);
  await page.waitForSelector("#stages tbody tr");
  check(!(await page.locator("#controls").isVisible()), "a viewer sees no controls on an active rollout");
  expect403 = true;
  const status = await page.evaluate(async (id) => {
    const r = await fetch(`/v1/rollouts/${id}/promote`, { method: "POST",
      headers: { Authorization: "Bearer " + sessionStorage.getItem("ringfence.token") } });
    return r.status;
  }, cfg.active);
  expect403 = false;
  check(status === 403, `the API answers ${status} (403) when the viewer tries to promote`);
  await page.close();
}

async function release(ctx) {
  const page = await ctx.newPage();
  watch(page, "release");
  await signIn(page, cfg.release);
  await page.goto(`${cfg.url}/#/rollouts/${cfg.active}`);
  await page.waitForSelector("#controls:not([hidden])");
  const before = await page.locator("#rollout-summary").textContent();
  check(before.includes("stage 0"), `the rollout starts at stage 0: ${before}`);

  // A cancelled confirmation changes nothing.
  await page.click('#controls button[data-action="halt"]');
  await page.waitForSelector("#confirm[open]");
  await page.click('#confirm button[value="cancel"]');
  await page.waitForFunction(() => !document.getElementById("confirm").open);
  check((await page.locator("#action-result").textContent()) === "", "cancel sends nothing");

  await page.click('#controls button[data-action="promote"]');
  await page.waitForSelector("#confirm[open]");
  const question = await page.locator("#confirm-text").textContent();
  check(question.startsWith(`Promote rollout ${cfg.active}`), `the promote is confirmed first: ${question}`);
  await page.fill("#confirm-reason", "canary looks good");
  await shot(page, "promote-confirm");
  await page.click("#confirm-ok");
  await page.waitForFunction(() => document.getElementById("action-result").textContent.length > 0);
  const result = await page.locator("#action-result").textContent();
  check(result === "promote: done.", `the promote went through: ${result}`);
  await page.waitForFunction(() =>
    document.getElementById("rollout-summary").textContent.includes("stage 1"));
  await page.waitForSelector('#rollout-events li[data-kind="rollout.promoted"]');
  await shot(page, "rollout-promoted-release");
  await page.close();
}

async function main() {
  fs.mkdirSync(cfg.screenshots, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rf-chromium-"));
  const ctx = await chromium.launchPersistentContext(dataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    chromiumSandbox: false,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await viewer(ctx);
    await release(ctx);
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (problems.length) throw new Error(problems.join("\n"));
}

main().then(
  () => { console.log(JSON.stringify({ ok: true, steps })); },
  (e) => {
    console.log(JSON.stringify({ ok: false, error: String(e.stack || e), steps, problems }));
    process.exit(1);
  });
