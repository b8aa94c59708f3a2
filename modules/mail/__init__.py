"""Make's Email app: send over SMTP (``email:ActionSendEmail``) and watch a mailbox over IMAP
(``email:TriggerNewEmail``), with an ``email`` connection (SMTP and IMAP servers, user, password).
"""

from modules.mail.connection import EMAIL_CONNECTION
from modules.mail.modules import EMAIL_MODULES

__all__ = ["EMAIL_CONNECTION", "EMAIL_MODULES"]
