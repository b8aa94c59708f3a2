"""Make's Email app against real local servers: SMTP (aiosmtpd) and IMAP (tests/modules/
imap_server.py, a minimal IMAP4rev1 server: no installable one runs offline)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.errors import AccountValidationError, BundleValidationError, InvalidConfigurationError
from engine.registry import default_registry
from engine.runtime import ModuleContext, RunContext, RunVariables, Transaction
from engine.spec import ModuleCall
from modules.mail.me import SendMeInput
from modules.mail.me import send_me as send_me_email
from tests.modules.helpers import call_module
from tests.modules.imap_server import start_imap_server

REGISTRY = default_registry()
USER, PASSWORD = "robot@shop.example", "s3cret"


class Inbox:
    """aiosmtpd handler: keeps every accepted envelope."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535 itself


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def imap():
    server, state = start_imap_server(USER, PASSWORD)
    state.port = server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


class Connections:
    def __init__(self, **values):
        self.values = values

    def get(self, connection_id):
        assert connection_id == 77
        return {"username": USER, "password": PASSWORD, **self.values}


def context_for(smtp=None, imap=None, **overrides):
    values = {"smtp_security": "none", "imap_security": "none"}
    if smtp is not None:
        values |= {"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
    if imap is not None:
        values |= {"imap_host": "127.0.0.1", "imap_port": imap.port}
    return RunContext(
        clock=lambda: datetime(2026, 4, 1, tzinfo=UTC),
        connections=Connections(**(values | overrides)),
        allow_private_network=True,  # the servers listen on loopback
    )


def send(mapped, smtp, imap=None, save=False, **overrides):
    return call_module(
        REGISTRY["email:ActionSendEmail"],
        mapped,
        {"account": 77, "saveAfterSent": save},
        run_context=context_for(smtp, imap, **overrides),
    )


def test_send_an_html_email_as_make_exports_it(smtp):
    mapped = {  # module 27 of mrlmbrown's Student Engagement Monitor, filled in
        "to": ["ann@school.example"],
        "cc": [],
        "bcc": ["audit@school.example"],
        "from": "",
        "sender": "",
        "replyTo": "help@school.example",
        "subject": "Quick check\u2011in about your progress in Physics",
        "contentType": "html",
        "html": "Hi Ann,<br><br>\r\nThere has been a <b>slowdown</b>.",
        "priority": "high",
        "headers": [{"key": "X-Course", "value": "PHY-1"}],
        "inReplyTo": "",
        "references": [],
        "attachments": [{"fileName": "plan.txt", "data": "step 1", "cid": "plan1"}],
    }
    [out] = send(mapped, smtp)
    [envelope] = smtp.envelopes
    assert envelope.mail_from == USER
    assert sorted(envelope.rcpt_tos) == ["ann@school.example", "audit@school.example"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == mapped["subject"]
    assert message["Bcc"] is None  # blind copies travel in the envelope only
    assert (message["Reply-To"], message["X-Priority"], message["X-Course"]) == (
        "help@school.example",
        "1 (Highest)",
        "PHY-1",
    )
    assert "<b>slowdown</b>" in message.get_body(("html",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "plan.txt"
    assert attachment.get_content() == "step 1"
    assert attachment["Content-ID"] == "<plan1>"
    assert out["messageId"] == message["Message-ID"]
    assert out["accepted"] == ["ann@school.example", "audit@school.example"]


def test_send_plain_text_from_a_chosen_sender(smtp):
    mapped = {
        "to": ["bo@x.example"],
        "from": "Shop <orders@shop.example>",
        "subject": "Order 5",
        "contentType": "text",
        "text": "Your order has been confirmed.",
    }
    send(mapped, smtp)
    message = message_from_bytes(smtp.envelopes[0].content, policy=policy.default)
    assert message["From"] == "Shop <orders@shop.example>"
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Your order has been confirmed."


def test_send_refuses_a_header_with_a_line_break(smtp):
    with pytest.raises(BundleValidationError, match="subject"):
        send({"to": ["a@x.example"], "subject": "Hi\r\nBcc: all@x.example"}, smtp)
    assert smtp.envelopes == []


def test_send_with_a_wrong_password_is_an_account_error(smtp):
    with pytest.raises(AccountValidationError, match="refused the login"):
        send({"to": ["a@x.example"], "subject": "x"}, smtp, password="wrong")


def test_send_and_save_a_copy_in_the_sent_folder(smtp, imap):
    send({"to": ["a@x.example"], "subject": "Kept", "html": "<p>x</p>"}, smtp, imap, save=True)
    [copy] = imap.boxes["Sent"].mails
    assert message_from_bytes(copy.raw)["Subject"] == "Kept"
    assert "\\Seen" in copy.flags


def _mail(subject, sender="ann@x.example", attachment=None, day=30):
    message = EmailMessage()
    message["From"], message["To"] = f"Ann <{sender}>", f"Robot <{USER}>, cc@x.example"
    message["Subject"], message["Message-ID"] = subject, f"<{subject.replace(' ', '')}@x>"
    message["Date"] = f"Mon, {day} Mar 2026 10:00:00 +0200"
    message.set_content(f"Text of {subject}")
    message.add_alternative(f"<p>HTML of {subject}</p>", subtype="html")
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="a.pdf")
    return message.as_bytes()


def watch(imap, cursor=None, start=None, **parameters):
    spec = REGISTRY["email:TriggerNewEmail"]
    context = ModuleContext(
        run=context_for(imap=imap),
        variables=RunVariables(),
        transaction=Transaction(),
        module_id=1,
        cursor=cursor,
        start=start,
    )
    settings = {"account": 77, "folder": "INBOX", "criteria": "ALL", "maxResults": 10}
    call = ModuleCall(
        module_id=1,
        parameters=spec.parameters.model_validate(settings | parameters),
        input=spec.input.model_validate({}),
        context=context,
    )
    return list(spec.run(call)), context.pending_cursor


def test_watch_emails_outputs_new_mail_oldest_first(imap):
    inbox = imap.boxes["INBOX"]
    inbox.add(_mail("Before"))
    emails, cursor = watch(imap)  # from now on
    assert emails == []
    assert cursor == {"uidvalidity": 4242, "uid": 1}
    inbox.add(_mail("Order 1", attachment=b"%PDF-1"))
    inbox.add(_mail("Order 2"))
    emails, cursor = watch(imap, cursor, maxResults=1)
    [first] = emails
    assert first["subject"] == "Order 1"
    assert first["from"] == {"name": "Ann", "address": "ann@x.example"}
    assert first["to"] == [
        {"name": "Robot", "address": USER},
        {"name": "", "address": "cc@x.example"},
    ]
    assert first["date"] == "2026-03-30T08:00:00.000Z"
    assert first["text"].strip() == "Text of Order 1"
    assert first["html"].strip() == "<p>HTML of Order 1</p>"
    assert first["attachments"] == [
        {
            "fileName": "a.pdf",
            "contentType": "application/pdf",
            "fileSize": 6,
            "data": b"%PDF-1",
            "contentId": None,
        }
    ]
    assert first["headers"]["subject"] == ["Order 1"]
    emails, cursor = watch(imap, cursor)
    assert [e["subject"] for e in emails] == ["Order 2"]
    assert watch(imap, cursor)[0] == []


def test_watch_searches_unread_mail_and_marks_it_read(imap):
    inbox = imap.boxes["INBOX"]
    inbox.add(_mail("Read already"), {"\\Seen"})
    inbox.add(_mail("Invoice 7", sender="billing@vendor.example"))
    inbox.add(_mail("Newsletter", sender="news@vendor.example"))
    start = {"type": "all"}
    emails, _ = watch(imap, start=start, criteria="UNSEEN", subject="invoice", markSeen=True)
    assert [e["subject"] for e in emails] == ["Invoice 7"]
    assert "\\Seen" in inbox.mails[1].flags
    assert "\\Seen" not in inbox.mails[2].flags
    emails, _ = watch(imap, start=start, **{"from": "news@"})
    assert [e["subject"] for e in emails] == ["Newsletter"]


def test_watch_starts_over_when_the_mailbox_was_rebuilt(imap):
    imap.boxes["INBOX"].add(_mail("Only"))
    emails, cursor = watch(imap, {"uidvalidity": 1, "uid": 99})
    assert emails == []  # another UIDVALIDITY: from now on, not "UID 100 onwards"
    assert cursor == {"uidvalidity": 4242, "uid": 1}


def test_watch_since_a_date(imap):
    inbox = imap.boxes["INBOX"]
    inbox.add(_mail("Old", day=2))
    inbox.add(_mail("New", day=30))
    emails, _ = watch(imap, start={"type": "since", "date": "2026-03-15T00:00:00Z"})
    assert [e["subject"] for e in emails] == ["New"]


def test_corpus_order_processing_confirms_the_order_by_email(smtp):
    """6302Mohamed's "E-commerce Order Processing": a valid, new order reaches module 28, which
    sends the customer a plain-text confirmation over SMTP (Sheets, Airtable, Slack stubbed)."""
    from tests.modules.corpus_runs import LocalServer, run_corpus_blueprint

    class AnyAccount(Connections):
        def get(self, connection_id):
            assert connection_id == "EMAIL_ACCOUNT_PLACEHOLDER"
            return {"username": USER, "password": PASSWORD, **self.values}

    order = {
        "order_id": "A-1001",
        "order_timestamp": "2026-03-31T09:00:00Z",
        "customer_name": "Ann",
        "customer_email": "ann@customer.example",
        "total_amount": "42.50",
        "line_items": [{"item_id": 1, "product_name": "Pen", "sku": "P1", "quantity": 2}],
    }
    connections = AnyAccount(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    run = run_corpus_blueprint(
        "6302Mohamed__make-automation-projects__project-02-blueprint-sanitized-reference.json",
        LocalServer(routes={}),
        trigger_bundles=[order],
        stubs=(
            "google-sheets:addRow",
            "google-sheets:filterRows",
            "google-sheets:updateRow",
            "airtable:ActionCreateRecord",
            "slack:CreateMessage",
            "telegram:SendReplyMessage",
        ),
        context={"connections": connections},
    )
    assert run.record["status"] == "success", run.record.get("error")
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["ann@customer.example"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "Your order has been confirmed \u2014 A-1001"
    body = message.get_content()
    assert "Hi Ann," in body and "Invoice ID: INV-A-1001" in body and "42.50" in body


def test_the_connection_test_logs_in_to_both_servers(smtp, imap):
    from modules.http.guard import BlockedAddressError, guarded_session
    from modules.mail import EMAIL_CONNECTION

    connection = {
        "username": USER,
        "password": PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": str(smtp.port),  # as the form stores it
        "smtp_security": "none",
        "imap_host": "127.0.0.1",
        "imap_port": imap.port,
        "imap_security": "none",
    }
    facts = EMAIL_CONNECTION.test(connection, guarded_session(allow_private_network=True))
    assert facts == {"user": USER, "smtp": "127.0.0.1", "imap": "127.0.0.1", "folders": 2}
    with pytest.raises(AccountValidationError):
        EMAIL_CONNECTION.test(connection | {"password": "no"}, guarded_session(True))
    with pytest.raises(BlockedAddressError, match="private, loopback"):
        EMAIL_CONNECTION.test(connection, guarded_session(allow_private_network=False))


def send_me(smtp, mapped, **environ):
    settings = {
        "SWITCHBOARD_ME_EMAIL": "owner@shop.example, ops@shop.example",
        "SWITCHBOARD_SMTP_URL": f"smtp://{USER}:{PASSWORD}@127.0.0.1:{smtp.port}?security=none",
        **environ,
    }
    data = SendMeInput.model_validate(mapped)
    return send_me_email(data, settings, allow_private_network=True)


def test_send_me_an_email_goes_to_my_first_address_through_the_installations_server(smtp):
    # mapper null, as in muizztalks' ClickUp-to-email blueprint (module 9)
    out = send_me(smtp, {"subject": "Task done", "html": "<p>ok</p>"})
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["owner@shop.example"] and envelope.mail_from == USER
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "Task done" and out["to"] == "owner@shop.example"
    assert "<p>ok</p>" in message.get_body(("html",)).get_content()


def test_send_me_an_email_only_to_my_own_addresses(smtp):
    send_me(smtp, {"to": "ops@shop.example", "subject": "x"})
    assert smtp.envelopes[0].rcpt_tos == ["ops@shop.example"]
    with pytest.raises(BundleValidationError, match="not one of the addresses"):
        send_me(smtp, {"to": "stranger@x.example", "subject": "x"})


def test_send_me_an_email_says_which_setting_is_missing(smtp):
    with pytest.raises(InvalidConfigurationError, match="SWITCHBOARD_ME_EMAIL"):
        send_me(smtp, {"subject": "x"}, SWITCHBOARD_ME_EMAIL="")
    with pytest.raises(InvalidConfigurationError, match="SWITCHBOARD_SMTP_URL"):
        send_me(smtp, {"subject": "x"}, SWITCHBOARD_SMTP_URL="")
