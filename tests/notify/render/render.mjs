// Renders the notification payloads in screenshots/notify/*.json (what the sinks are sent,
// captured by `SIGNOFF_UPDATE_NOTIFY_PICTURES=1 cargo test --test notify_sinks pictures`)
// the way each target shows them, and screenshots them with headless Chromium into
// screenshots/notify/*.png for docs/notify.md.
//
// Only for regenerating the docs, never in CI: needs Node and Debian's `chromium` (plus
// `fonts-lato` and `fonts-noto-color-emoji` for the look). Usage, from the repository root:
//
//   node tests/notify/render/render.mjs [NAME…]
//
// The renderers are approximations of Slack's Block Kit, Teams' Adaptive Cards and
// PagerDuty's incident view, covering exactly the elements signoff sends; the pictures are
// ours, not the vendors'.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const dir = join(root, "screenshots/notify");
const WIDTH = 680;
const SCALE = 1.5;

const html = (s) =>
  String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// ---- Slack Block Kit ------------------------------------------------------------------

const EMOJI = {
  red_circle: "🔴",
  large_orange_circle: "🟠",
  large_yellow_circle: "🟡",
  white_circle: "⚪",
  white_check_mark: "✅",
  no_entry: "⛔",
  hourglass: "⌛",
  leftwards_arrow_with_hook: "↩️",
  eyes: "👀",
};

// Slack mrkdwn → HTML. The text arrives with &, < and > already escaped by signoff (as
// Slack requires), so it is HTML-safe as it is; only the markup is turned into tags.
function mrkdwn(text) {
  let s = text.replace(/"/g, "&quot;");
  const codes = [];
  s = s.replace(/`([^`\n]+)`/g, (_, c) => {
    codes.push(c);
    return `\u0000${codes.length - 1}\u0000`;
  });
  const open = `(^|[\\s(\\[{"'>;]|&quot;)`;
  const close = `(?=$|[\\s).,;:!?'\\]}&])`;
  s = s.replace(new RegExp(`${open}\\*(\\S(?:[^*\\n]*?\\S)?)\\*${close}`, "gm"), "$1<b>$2</b>");
  s = s.replace(new RegExp(`${open}_(\\S(?:[^_\\n]*?\\S)?)_${close}`, "gm"), "$1<i>$2</i>");
  s = s.replace(new RegExp(`${open}~(\\S(?:[^~\\n]*?\\S)?)~${close}`, "gm"), "$1<s>$2</s>");
  s = s.replace(/:([a-z0-9_+-]+):/g, (m, name) => (EMOJI[name] ? `<span class="emoji">${EMOJI[name]}</span>` : m));
  s = s.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[Number(i)]}</code>`);
  return s.replace(/\n/g, "<br>");
}

function plain(t) {
  return html(t.text).replace(/:([a-z0-9_+-]+):/g, (m, name) => (EMOJI[name] ? EMOJI[name] : m));
}

function slackText(t) {
  return t.type === "mrkdwn" ? mrkdwn(t.text) : plain(t);
}

function block(b) {
  switch (b.type) {
    case "header":
      return `<div class="sk-header">${plain(b.text)}</div>`;
    case "section": {
      let out = "";
      if (b.text) out += `<div class="sk-text">${slackText(b.text)}</div>`;
      if (b.fields) out += `<div class="sk-fields">${b.fields.map((f) => `<div>${slackText(f)}</div>`).join("")}</div>`;
      return `<div class="sk-section">${out}</div>`;
    }
    case "context":
      return `<div class="sk-context">${b.elements.map((e) => `<span>${slackText(e)}</span>`).join("")}</div>`;
    case "actions":
      return `<div class="sk-actions">${b.elements
        .map((e) => `<span class="sk-button${e.style === "primary" ? " primary" : ""}">${plain(e.text)}</span>`)
        .join("")}</div>`;
    default:
      throw new Error(`no renderer for Slack block ${b.type}`);
  }
}

function slack(p) {
  const edited = p.request.endsWith("chat.update");
  const blocks = p.body.blocks.map(block).join("");
  return `
  <div class="slack">
    <div class="sk-channel"># oncall</div>
    <div class="sk-message">
      <div class="sk-avatar">✓</div>
      <div class="sk-main">
        <div class="sk-meta"><b>signoff</b><span class="sk-app">APP</span><span class="sk-time">3:12 AM</span></div>
        ${blocks}
        ${edited ? `<div class="sk-edited">(edited)</div>` : ""}
      </div>
    </div>
  </div>`;
}

// ---- Microsoft Teams Adaptive Card ----------------------------------------------------

// Adaptive Card markdown: the subset signoff sends (bold, italic, "- " lists) and backslash
// escapes, which show the character itself.
function acMarkdown(text) {
  const lines = html(text).split("\n");
  const inline = (l) => {
    const escaped = [];
    l = l.replace(/\\(.)/g, (_, c) => {
      escaped.push(c);
      return `\u0000${escaped.length - 1}\u0000`;
    });
    l = l.replace(/\*\*(.+?)\*\*/g, "<b>$1</b>").replace(/(^|\s)_(\S.*?)_(?=\s|$)/g, "$1<i>$2</i>");
    return l.replace(/\u0000(\d+)\u0000/g, (_, i) => escaped[Number(i)]);
  };
  if (lines.every((l) => l.startsWith("- "))) {
    return `<ul>${lines.map((l) => `<li>${inline(l.slice(2))}</li>`).join("")}</ul>`;
  }
  return lines.map(inline).join("<br>");
}

const AC_COLOR = { Attention: "#c4314b", Good: "#237b4b", Warning: "#835c00", Accent: "#5b5fc7" };

function element(e) {
  switch (e.type) {
    case "TextBlock": {
      const style = [];
      if (e.weight === "Bolder") style.push("font-weight:700");
      if (e.size === "Medium") style.push("font-size:18px");
      if (e.size === "Large") style.push("font-size:21px");
      if (e.color && AC_COLOR[e.color]) style.push(`color:${AC_COLOR[e.color]}`);
      if (e.isSubtle) style.push("color:#616161");
      if (e.fontType === "Monospace") style.push("font-family:'DejaVu Sans Mono',monospace;font-size:13px");
      return `<div class="ac-text" style="${style.join(";")}">${acMarkdown(e.text)}</div>`;
    }
    case "FactSet":
      return `<table class="ac-facts">${e.facts
        .map((f) => `<tr><td class="ac-title">${acMarkdown(f.title)}</td><td>${acMarkdown(f.value)}</td></tr>`)
        .join("")}</table>`;
    default:
      throw new Error(`no renderer for Adaptive Card element ${e.type}`);
  }
}

function teams(p) {
  const card = p.body.attachments[0].content;
  if (card.type !== "AdaptiveCard") throw new Error("not an Adaptive Card");
  return `
  <div class="teams">
    <div class="tm-meta"><span class="tm-avatar">W</span><b>Workflows</b><span class="tm-time">3:12 AM</span></div>
    <div class="tm-card">${card.body.map(element).join("")}</div>
  </div>`;
}

// ---- Standard Webhooks ----------------------------------------------------------------

function jsonHtml(v, indent = 0) {
  const pad = "  ".repeat(indent);
  if (v === null) return `<span class="j-lit">null</span>`;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `${pad}  ${jsonHtml(x, indent + 1)}`).join(",\n")}\n${pad}]`;
  }
  if (typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 0) return "{}";
    return `{\n${keys
      .map((k) => `${pad}  <span class="j-key">${html(JSON.stringify(k))}</span>: ${jsonHtml(v[k], indent + 1)}`)
      .join(",\n")}\n${pad}}`;
  }
  if (typeof v === "string") return `<span class="j-str">${html(JSON.stringify(v))}</span>`;
  return `<span class="j-lit">${html(String(v))}</span>`;
}

function webhook(p) {
  const ts = Math.floor(Date.parse(p.body.timestamp) / 1000);
  return `
  <div class="hook">
    <div class="hk-title">What the receiver gets: a Standard Webhooks request</div>
    <pre><span class="j-key">${html(p.request)} HTTP/1.1</span>
content-type: application/json; charset=utf-8
webhook-id: ${html(p.headers["webhook-id"])}
webhook-timestamp: ${ts}
webhook-signature: v1,&lt;base64 HMAC-SHA256 of id.timestamp.body&gt;

${jsonHtml(p.body)}</pre>
  </div>`;
}

// ---- PagerDuty ------------------------------------------------------------------------

const SEVERITY = { critical: "Critical", error: "Error", warning: "Warning", info: "Info" };

function pagerduty(p, name) {
  // A resolve event carries only the dedup key: the incident it resolves is the trigger's.
  const resolved = p.body.event_action === "resolve";
  const trigger = resolved ? JSON.parse(readFileSync(join(dir, "pagerduty-triggered.json"), "utf8")) : p;
  if (resolved && trigger.body.dedup_key !== p.body.dedup_key) throw new Error(`${name}: resolves another incident`);
  const t = trigger.body.payload;
  const details = Object.entries(t.custom_details)
    .map(([k, v]) => `<tr><td class="pd-k">${html(k)}</td><td>${html(Array.isArray(v) ? v.join("\n") : v)}</td></tr>`)
    .join("");
  return `
  <div class="pd">
    <div class="pd-head">
      <span class="pd-status ${resolved ? "res" : "trig"}">${resolved ? "Resolved" : "Triggered"}</span>
      <span class="pd-sev">${SEVERITY[t.severity] || html(t.severity)}</span>
      <span class="pd-service">Service: signoff approvals</span>
    </div>
    <div class="pd-title">${html(t.summary)}</div>
    <table class="pd-meta">
      <tr><td>Source</td><td>${html(t.source)}</td><td>Component</td><td>${html(t.component)}</td></tr>
      <tr><td>Group</td><td>${html(t.group)}</td><td>Class</td><td>${html(t.class)}</td></tr>
      <tr><td>Dedup key</td><td colspan="3">${html(trigger.body.dedup_key)}</td></tr>
    </table>
    <div class="pd-sub">Custom details</div>
    <table class="pd-details">${details}</table>
    ${resolved ? `<div class="pd-note">Resolved by the Events API: <code>${html(JSON.stringify({ event_action: p.body.event_action, dedup_key: p.body.dedup_key }))}</code></div>` : ""}
  </div>`;
}

// ---- The page -------------------------------------------------------------------------

const CSS = readFileSync(join(here, "style.css"), "utf8");

function page(name, p) {
  let body;
  if (name.startsWith("slack-")) body = slack(p);
  else if (name.startsWith("teams-")) body = teams(p);
  else if (name.startsWith("webhook-")) body = webhook(p);
  else if (name.startsWith("pagerduty-")) body = pagerduty(p, name);
  else throw new Error(`no renderer for ${name}`);
  return `<!doctype html><html><head><meta charset="utf-8"><style>${CSS}
  body { width: ${WIDTH}px; }</style></head>
  <body><div id="frame">${body}</div>
  <script>document.body.setAttribute("data-height",
    String(Math.ceil(document.getElementById("frame").getBoundingClientRect().height)));</script>
  </body></html>`;
}

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function chromium(profile, args) {
  return execFileSync(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
}

const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .sort();
const work = mkdtempSync(join(tmpdir(), "signoff-render-"));
try {
  for (const name of names) {
    const p = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
    const file = join(work, `${name}.html`);
    writeFileSync(file, page(name, p));
    const dom = chromium(join(work, "profile"), ["--dump-dom", `file://${file}`]);
    const m = dom.match(/data-height="(\d+)"/);
    if (!m) throw new Error(`${name}: the page did not measure itself`);
    const height = Number(m[1]);
    const out = join(dir, `${name}.png`);
    chromium(join(work, "profile"), [
      `--window-size=${WIDTH},${height}`,
      `--force-device-scale-factor=${SCALE}`,
      `--screenshot=${out}`,
      `file://${file}`,
    ]);
    console.log(`${out} (${WIDTH}×${height} CSS px)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
