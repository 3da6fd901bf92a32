"""Verifies one recorded webhook call ({"body", "headers"} on stdin) with the secret in argv[1], as a
Python receiver using Standard Webhooks' library would; prints the verified payload, or fails."""
import json
import sys

from standardwebhooks import Webhook

call = json.load(sys.stdin)
print(json.dumps(Webhook(sys.argv[1]).verify(call["body"], call["headers"])))
