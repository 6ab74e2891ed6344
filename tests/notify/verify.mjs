// Reads one JSON object per line on stdin: {"secret": "whsec_…", "headers": {…}, "body": "…"}
// and prints one JSON line per input: {"ok": true, "payload": …} or {"ok": false, "error": "…"}.
// The check is the Standard Webhooks reference implementation's, not signoff's.
import { Webhook } from "standardwebhooks";
import readline from "node:readline";

const rl = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of rl) {
  if (!line.trim()) continue;
  let out;
  try {
    const { secret, headers, body } = JSON.parse(line);
    const payload = new Webhook(secret).verify(body, headers);
    out = { ok: true, payload };
  } catch (e) {
    out = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
