"""How an email reaches a mailhook: the shape of the queued request both sides agree on.

The SMTP receiver (``webui.mailhooks``) stores each message as a webhook delivery of the
address's webhook, a multipart request; the module (``modules.mail.mailhook``) reads it back.
Both read these names from here, below them, so neither imports the other.
"""

from __future__ import annotations

MAILHOOK = "gateway:CustomMailHook"
"""Make's module id of the mailhook trigger."""
EMAIL_FIELD = "email"
"""The multipart field that carries the raw message in the queued request."""
RECIPIENTS_FIELD = "recipients"
"""The multipart field with the envelope's recipients, comma-separated."""
