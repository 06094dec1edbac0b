// The demo's chat page: pick a simulated person, chat with the bot as them, and see the
// bot's Adaptive Cards rendered by Microsoft's renderer (adaptivecards.min.js).
"use strict";

const POLL_MS = 700;
const CARD = "application/vnd.microsoft.card.adaptive";

const searchBox = document.getElementById("search");
const peopleList = document.getElementById("people");
const chatHeader = document.getElementById("chat-header");
const transcriptPane = document.getElementById("transcript");
const composer = document.getElementById("composer");
const textBox = document.getElementById("text");

let current = null; // the chosen person
let generation = 0; // bumps on every switch, so stale polls are ignored
const rendered = new Map(); // entry id -> { key, node }
const replacedCards = new Map(); // entry id -> { card, updates } from Action.Execute responses

AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = markdown(text);
  result.didProcess = true;
};

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// The small Markdown subset Teams cards use: bold, italic, links, line breaks.
function markdown(text) {
  return escapeHtml(text)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*]+)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>')
    .replace(/\n/g, "<br>");
}

async function api(path, body) {
  const init = body === undefined
    ? {}
    : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  if (!response.ok) {
    throw new Error(`${path}: HTTP ${response.status}`);
  }
  return response.json();
}

// ---- people ----

let searchTimer = null;
searchBox.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 150);
});

async function search() {
  const query = searchBox.value;
  const { people } = await api(`/api/people?q=${encodeURIComponent(query)}`);
  if (query !== searchBox.value) return;
  peopleList.replaceChildren(...people.map(personItem));
}

function personItem(person) {
  const li = document.createElement("li");
  li.dataset.id = person.id;
  if (current && current.id === person.id) li.classList.add("selected");
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = person.name;
  if (person.helpdesk) name.append(badge("helpdesk", "Helpdesk"));
  if (person.admin) name.append(badge("admin", "Admin"));
  const details = document.createElement("div");
  details.className = "details";
  details.textContent = [person.upn, person.department, person.locale].filter(Boolean).join(" · ");
  li.append(name, details);
  li.addEventListener("click", () => choose(person));
  return li;
}

function badge(kind, label) {
  const span = document.createElement("span");
  span.className = `badge ${kind}`;
  span.textContent = label;
  return span;
}

async function choose(person) {
  current = person;
  generation += 1;
  rendered.clear();
  replacedCards.clear();
  transcriptPane.replaceChildren();
  for (const li of peopleList.children) li.classList.toggle("selected", li.dataset.id === person.id);
  chatHeader.classList.remove("subtle");
  chatHeader.replaceChildren(document.createTextNode(`Chatting as ${person.name} (${person.upn})`));
  showDevices(person, generation);
  composer.hidden = false;
  textBox.focus();
  try {
    await api(`/api/people/${person.id}/install`, {});
  } catch (e) {
    note(`Could not install the app for ${person.name}: ${e.message}`);
  }
  poll(generation);
}

// ---- the person's devices ----

// What the person does outside the chat: setting up a passkey on one of their devices, as
// the bot's register card says. The simulated Graph lists it after a short lag.
async function showDevices(person, mine) {
  let devices;
  try {
    ({ devices } = await api(`/api/people/${person.id}/devices`));
  } catch (e) {
    return;
  }
  if (mine !== generation) return;
  const row = document.createElement("div");
  row.id = "devices";
  row.className = "devices";
  row.append(document.createTextNode("Set up a passkey on: "));
  for (const device of devices.filter((d) => d.kind)) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = device.name;
    button.title = device.os;
    button.dataset.kind = device.kind;
    button.addEventListener("click", async () => {
      try {
        const result = await api(`/api/people/${person.id}/passkeys`, { device: device.name, kind: device.kind });
        note(result.result === "registered"
          ? `(You set up a passkey on ${device.name}. Entra lists it in a few seconds; tell the bot you are done.)`
          : `(Setting up a passkey on ${device.name} failed: ${result.reason})`);
      } catch (e) {
        note(`(Could not set up a passkey on ${device.name}: ${e.message})`);
      }
    });
    row.append(button);
  }
  chatHeader.append(row);
}

// ---- transcript ----

async function poll(mine) {
  if (mine !== generation || !current) return;
  try {
    const { entries } = await api(`/api/people/${current.id}/transcript`);
    if (mine === generation) render(entries);
  } catch (e) {
    // The next poll tries again.
  }
  setTimeout(() => poll(mine), POLL_MS);
}

function render(entries) {
  let atBottom = transcriptPane.scrollHeight - transcriptPane.scrollTop - transcriptPane.clientHeight < 40;
  for (const entry of entries) {
    const replaced = replacedCards.get(entry.id);
    const useReplaced = replaced && replaced.updates === entry.updates;
    const key = `${entry.updates}:${useReplaced ? "replaced" : "own"}`;
    const known = rendered.get(entry.id);
    if (known && known.key === key) continue;
    const node = entryNode(entry, useReplaced ? replaced.card : null);
    if (known) {
      known.node.replaceWith(node);
    } else {
      transcriptPane.append(node);
      atBottom = true;
    }
    rendered.set(entry.id, { key, node });
  }
  if (atBottom) transcriptPane.scrollTop = transcriptPane.scrollHeight;
}

function entryNode(entry, replacementCard) {
  const activity = entry.activity;
  const node = document.createElement("div");
  node.className = `entry ${entry.sender}`;
  node.dataset.id = entry.id;
  if (entry.sender === "user" && activity.type === "invoke") {
    node.className = "entry user note";
    const verb = activity.value && activity.value.action ? activity.value.action.verb : "";
    node.append(bubble(`(clicked ${verb || "a card action"})`));
    return node;
  }
  if (activity.text) {
    const b = bubble(activity.text);
    if (entry.sender === "bot" && activity.textFormat !== "plain") b.innerHTML = markdown(activity.text);
    node.append(b);
  } else if (entry.sender === "user" && activity.value !== undefined) {
    node.append(bubble(`(submitted ${JSON.stringify(activity.value)})`));
  }
  const attachments = replacementCard
    ? [{ contentType: CARD, content: replacementCard }]
    : activity.attachments || [];
  for (const attachment of attachments) {
    node.append(attachment.contentType === CARD
      ? cardNode(attachment.content, entry)
      : bubble(`(${attachment.contentType} attachment)`));
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  const at = new Date(entry.at);
  meta.textContent = `${entry.sender === "bot" ? "Passkey Pilot" : current.name} · ${at.toLocaleTimeString()}${entry.updates ? " · edited" : ""}`;
  node.append(meta);
  return node;
}

function bubble(text) {
  const div = document.createElement("div");
  div.className = "bubble";
  div.textContent = text;
  return div;
}

function cardNode(content, entry) {
  const holder = document.createElement("div");
  holder.className = "card";
  const card = new AdaptiveCards.AdaptiveCard();
  card.hostConfig = new AdaptiveCards.HostConfig({
    fontFamily: "'Segoe UI', system-ui, -apple-system, sans-serif",
  });
  card.onExecuteAction = (action) => onAction(action, entry);
  try {
    card.parse(content);
    const element = card.render();
    if (element) holder.append(element);
  } catch (e) {
    holder.append(bubble(`(this card could not be rendered: ${e.message})`));
  }
  return holder;
}

async function onAction(action, entry) {
  const person = current;
  const type = action.getJsonTypeName();
  try {
    if (type === "Action.OpenUrl") {
      window.open(action.url, "_blank", "noopener");
    } else if (type === "Action.Execute") {
      const { body } = await api(`/api/people/${person.id}/actions`, {
        replyToId: entry.id,
        verb: action.verb || "",
        data: action.data || {},
      });
      if (person !== current) return;
      if (body && body.type === CARD && body.value) {
        replacedCards.set(entry.id, { card: body.value, updates: entry.updates });
        rendered.delete(entry.id);
        const stale = transcriptPane.querySelector(`[data-id="${CSS.escape(entry.id)}"]`);
        const node = entryNode(entry, body.value);
        if (stale) stale.replaceWith(node); else transcriptPane.append(node);
        rendered.set(entry.id, { key: `${entry.updates}:replaced`, node });
      } else if (body && body.value && body.value.message) {
        note(`The bot answered: ${body.value.message}`);
      }
    } else if (type === "Action.Submit") {
      await api(`/api/people/${person.id}/messages`, { value: action.data || {} });
    }
  } catch (e) {
    note(`${type} failed: ${e.message}`);
  }
}

function note(text) {
  const node = document.createElement("div");
  node.className = "entry note";
  node.append(bubble(text));
  transcriptPane.append(node);
  transcriptPane.scrollTop = transcriptPane.scrollHeight;
}

// ---- sending ----

composer.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = textBox.value.trim();
  if (!text || !current) return;
  textBox.value = "";
  try {
    await api(`/api/people/${current.id}/messages`, { text });
  } catch (e) {
    note(`Not sent: ${e.message}`);
  }
});

search();
