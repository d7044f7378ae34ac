"""Standard Webhooks signatures (https://www.standardwebhooks.com/)."""

import base64
import hashlib
import hmac

from .models import SECRET_PREFIX


def signature(secret, message_id, timestamp, body):
    """``v1,`` and the base64 HMAC-SHA256, keyed with the secret's decoded bytes, of
    ``{message_id}.{timestamp}.{body}`` (``body``: the exact bytes sent)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secret, message_id, timestamp, body):
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "Content-Type": "application/json",
    }
