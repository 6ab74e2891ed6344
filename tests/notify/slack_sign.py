"""Signs Slack requests the way Slack does, with the official Slack SDK's
SignatureVerifier (slack_sdk.signature), for the broker's interactivity tests.

Reads one JSON object per line on standard input, {"secret", "timestamp", "body"}, and
answers one line each, {"signature": "v0=…"}: the X-Slack-Signature header for that body.
"""

import json
import sys

from slack_sdk.signature import SignatureVerifier

for line in sys.stdin:
    req = json.loads(line)
    verifier = SignatureVerifier(signing_secret=req["secret"])
    sig = verifier.generate_signature(timestamp=str(req["timestamp"]), body=req["body"])
    print(json.dumps({"signature": sig}), flush=True)
