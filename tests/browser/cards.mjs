// Renders the journey's sample cards (written by `passkey-pilot cards --out DIR`) in headless
// Chromium with Microsoft's adaptivecards renderer (the copy vendored for the demo page) in a
// Teams-like frame, and saves one PNG per card. Fails when a card does not render.
//
// Usage (from tests/browser, after `npm ci`):
//   node cards.mjs <dir with NN-name.json> <dir for the PNGs>
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node cards.mjs <cards json dir> <png dir>");
  process.exit(2);
}
const renderer = join(here, "..", "..", "src", "demo", "web", "adaptivecards.min.js");
const files = readdirSync(input).filter((f) => f.endsWith(".json")).sort();
if (files.length === 0) throw new Error(`no cards in ${input}`);
mkdirSync(output, { recursive: true });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 560, height: 400 }, deviceScaleFactor: 1 });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>
    body { margin: 0; background: #f5f5f5; font-family: 'Segoe UI', system-ui, sans-serif; }
    #frame { width: 480px; margin: 16px; background: #fff; border-radius: 6px;
             box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 4px 0; }
    .ac-pushButton { border: 1px solid #c7c7c7; border-radius: 4px; background: #fff;
                     padding: 5px 12px; font-weight: 600; cursor: pointer;
                     max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  </style></head><body><div id="frame"></div></body></html>`);
  await page.addScriptTag({ path: renderer });
  // Teams renders the markdown subset of TextBlocks (bold, italic, links, line breaks).
  await page.evaluate(() => {
    const escape = (t) => t.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
      result.outputHtml = escape(text)
        .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|\W)_(.+?)_(?=\W|$)/g, "$1<em>$2</em>")
        .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2">$1</a>')
        .replace(/\r\n|\r|\n/g, "<br>");
      result.didProcess = true;
    };
  });
  for (const file of files) {
    const card = JSON.parse(readFileSync(join(input, file), "utf8"));
    const error = await page.evaluate((content) => {
      const frame = document.getElementById("frame");
      frame.innerHTML = "";
      const ac = new AdaptiveCards.AdaptiveCard();
      ac.hostConfig = new AdaptiveCards.HostConfig({
        fontFamily: "'Segoe UI', system-ui, sans-serif",
        containerStyles: { default: { backgroundColor: "#FFFFFF" } },
      });
      const errors = [];
      const context = new AdaptiveCards.SerializationContext();
      ac.parse(content, context);
      for (let i = 0; i < context.eventCount; i++) errors.push(`parse: ${context.getEventAt(i).message}`);
      const element = ac.render();
      if (!element) return "nothing rendered";
      frame.append(element);
      for (const e of ac.validateProperties().validationEvents || []) errors.push(`validation: ${e.message}`);
      return errors.length ? errors.join("; ") : (frame.innerText.trim() ? null : "empty card");
    }, card);
    if (error) problems.push(`${file}: ${error}`);
    const png = join(output, file.replace(/\.json$/, ".png"));
    await page.locator("#frame").screenshot({ path: png });
    console.log(`${file} -> ${png}`);
  }
  if (problems.length) throw new Error(problems.join("\n"));
} finally {
  await browser.close();
}
