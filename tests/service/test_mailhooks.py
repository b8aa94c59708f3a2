"""gateway:CustomMailHook: an email sent over SMTP to the receiver ``switchboard serve`` starts
becomes a queued delivery of its scenario, run like a webhook request."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

import pytest

from engine.store import ExecutionStatus
from tests.service.blueprints import blueprint, module
from webui.mailhooks import MailhookReceiver

DOMAIN = "hooks.example"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mailhook_scenario(service, active=True):
    trigger = {
        "id": 1,
        "module": "gateway:CustomMailHook",
        "version": 1,
        "parameters": {"hook": 4321, "maxResults": 1},
        "mapper": {},
    }
    mapper = {"name": "got", "scope": "roundtrip", "value": "{{1.sender.email}}: {{1.subject}}"}
    keep = {**module(2, "util:SetVariable2"), "mapper": mapper}
    result = service.import_scenario(blueprint(trigger, keep, name="Mail in"), active=active)
    return result.scenario, result.webhooks[0]


@pytest.fixture
def receiver(service):
    receiver = MailhookReceiver(service, host="127.0.0.1", port=_free_port(), domain=DOMAIN)
    receiver.start()
    yield receiver
    receiver.stop()


def an_email(to, subject="Order 17", attachment=b"%PDF-1.4 \xe2\x82\xac"):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ann <ann@shop.example>", to, subject
    message.set_content("Please ship it.")
    message.add_attachment(attachment, maintype="application", subtype="pdf", filename="po.pdf")
    return message


def test_an_email_to_a_mailhook_runs_its_scenario(service, receiver):
    _scenario, webhook = mailhook_scenario(service)
    address = f"{webhook.token}@{DOMAIN}"
    with smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
        smtp.send_message(an_email(address))
    assert service.store.count_queue(webhook.id) == 1  # stored before it was acknowledged
    [execution_id] = service.process_webhook(webhook.id)
    execution = service.get_execution(execution_id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error
    [trigger, keep] = execution.record["modules"]
    [bundle] = trigger["calls"][0]["output"]
    assert bundle["sender"] == {"name": "Ann", "email": "ann@shop.example"}
    assert bundle["recipients"] == [address]
    assert bundle["text"].strip() == "Please ship it."
    [attachment] = bundle["attachments"]
    assert attachment["fileName"] == "po.pdf" and attachment["fileSize"] == 12  # bytes intact
    assert keep["calls"][0]["output"] == [{"got": "ann@shop.example: Order 17"}]


def test_an_address_that_is_no_mailhook_is_refused_at_rcpt(service, receiver):
    _, webhook = mailhook_scenario(service)
    with smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.send_message(an_email(f"nobody@{DOMAIN}"))
        [(code, _)] = refused.value.recipients.values()
        assert code == 550
        with pytest.raises(smtplib.SMTPRecipientsRefused):  # right token, other domain
            smtp.send_message(an_email(f"{webhook.token}@elsewhere.example"))
    assert service.store.count_queue(webhook.id) == 0


def test_a_webhook_scenarios_token_is_no_mail_address(service, receiver):
    hook = {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 1}}
    result = service.import_scenario(blueprint({**hook, "mapper": {}}), active=True)
    address = f"{result.webhooks[0].token}@{DOMAIN}"
    with (
        smtplib.SMTP("127.0.0.1", receiver.port) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.send_message(an_email(address))


def test_serve_starts_a_receiver_only_when_a_port_is_set(service):
    from webui.mailhooks import receiver_from_env

    assert receiver_from_env(service, {}) is None
    port = _free_port()
    receiver = receiver_from_env(
        service, {"SWITCHBOARD_MAILHOOK_PORT": str(port), "SWITCHBOARD_MAILHOOK_DOMAIN": DOMAIN}
    )
    assert receiver is not None
    receiver.start()
    try:
        assert receiver.port == port and receiver.controller.handler.domain == DOMAIN
    finally:
        receiver.stop()
