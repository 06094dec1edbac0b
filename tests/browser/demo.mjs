// Drives `passkey-pilot demo` in headless Chromium: open the page, pick a person, send "hi",
// wait for the bot's welcome card, click one of its actions and see it work, set up a passkey
// on one of the person's devices, and save a screenshot to out/demo.png.
//
// Usage (from tests/browser, after `npm ci`):
//   DEMO_URL=http://127.0.0.1:PORT/ node demo.mjs      # against a running demo
//   PASSKEY_PILOT_BIN=/path/to/passkey-pilot node demo.mjs   # starts (and stops) the demo itself
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const TIMEOUT = 15_000;

async function startDemo() {
  const bin = process.env.PASSKEY_PILOT_BIN
    || join(process.env.CARGO_TARGET_DIR || join(here, "..", "..", "target"), "debug", "passkey-pilot");
  const child = spawn(bin, ["demo", "--users", "2000", "--seed", "1"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the demo printed no URL within 10 s")), 10_000);
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the demo exited with ${code}`)));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/https?:\/\/127\.0\.0\.1:\d+\/\S*/);
      if (found) {
        clearTimeout(timer);
        resolve(found[0]);
      }
    });
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

const demo = process.env.DEMO_URL ? { url: process.env.DEMO_URL, stop: () => {} } : await startDemo();
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`); });
  await page.goto(demo.url);

  const first = page.locator("#people li").first();
  await first.waitFor();
  const name = await first.locator(".name").evaluate((n) => n.firstChild.textContent);
  const surname = name.split(/\s+/).pop();
  await page.fill("#search", surname);
  await page.waitForFunction((s) => {
    const items = [...document.querySelectorAll("#people li")];
    return items.length > 0 && items.every((li) => li.textContent.toLowerCase().includes(s.toLowerCase()));
  }, surname);
  await page.locator("#people li", { hasText: name }).first().click();
  await page.locator("#composer").waitFor();

  const cards = page.locator("#transcript .entry.bot .card > .ac-adaptiveCard");
  await cards.first().waitFor(); // the welcome on install
  await page.fill("#text", "hi");
  await page.click("#send");
  await page.locator("#transcript .entry.user .bubble", { hasText: "hi" }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#transcript .entry.bot .card > .ac-adaptiveCard").length >= 2);
  console.log(`welcome card: ${(await cards.last().innerText()).split("\n")[0]}`);

  // Click the welcome card's first action: a ShowCard opens inside the card, an Execute
  // sends an invoke (shown as a "clicked" note) and the card is answered in place.
  const card = cards.last();
  const action = card.locator(".ac-pushButton").first();
  if (!(await action.count())) throw new Error("the welcome card has no action to click");
  const title = (await action.innerText()).trim();
  const before = (await card.innerText()).length;
  await action.click();
  await page.waitForFunction(([n, b]) => {
    const all = document.querySelectorAll("#transcript .entry.bot .card > .ac-adaptiveCard");
    const grown = all.length && all[all.length - 1].innerText.length > b + 100;
    const noted = [...document.querySelectorAll("#transcript .entry.note")].some((e) => e.textContent.includes("clicked"));
    return grown || noted;
  }, [null, before]);
  console.log(`clicked the card action "${title}"`);

  // The person sets up a passkey on one of their devices, as a register card would ask.
  const device = page.locator("#chat-header .devices button").first();
  await device.waitFor();
  const deviceName = (await device.innerText()).trim();
  await device.click();
  await page.locator("#transcript .entry.note", { hasText: `set up a passkey on ${deviceName}` }).waitFor();
  console.log(`set up a passkey on "${deviceName}"`);

  mkdirSync(join(here, "out"), { recursive: true });
  await page.screenshot({ path: join(here, "out", "demo.png"), fullPage: true });
  console.log("screenshot: tests/browser/out/demo.png");
  if (problems.length) throw new Error(problems.join("\n"));
} finally {
  await browser.close();
  demo.stop();
}
