"""Make's Email app: send over SMTP (``email:ActionSendEmail``; ``email:ActionSendMeEmail``
through the installation's mail server) and watch a mailbox over IMAP
(``email:TriggerNewEmail``), with an ``email`` connection (SMTP and IMAP servers, user, password).
"""

from modules.mail.connection import EMAIL_CONNECTION
from modules.mail.mailhook import CUSTOM_MAILHOOK
from modules.mail.me import SEND_ME_EMAIL
from modules.mail.modules import EMAIL_MODULES as _MODULES

EMAIL_MODULES = (*_MODULES, SEND_ME_EMAIL, CUSTOM_MAILHOOK)

__all__ = ["EMAIL_CONNECTION", "EMAIL_MODULES"]
