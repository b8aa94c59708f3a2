"""QuickBooks sandbox: credit memos applied to invoices as QuickBooks Online applies them — a
payment (Receive Payment) whose lines link the invoice and the credit memo, ``TotalAmt`` 0 when
only credit pays; the invoice's ``Balance`` and the credit memo's ``RemainingCredit`` fall, to
the cent; deleting the payment gives both back."""

import pytest

from .test_quickbooks_oauth import fault, make_client
from .test_quickbooks_records import sales_line


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


def link(txn_id, txn_type, amount):
    return {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}


def credit_memo(client, amount, customer="1", **extra):
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "Description": "Goodwill",
        "SalesItemLineDetail": {"Qty": 1, "UnitPrice": amount, "TaxCodeRef": {"value": "5"}},
    }
    return client.create(
        "creditmemo", {"CustomerRef": {"value": customer}, "Line": [line], **extra}
    )


@pytest.fixture
def books(client):
    """A customer, an invoice of 230.00 and a credit memo of 50.10."""
    client.create("customer", {"DisplayName": "Tui Software"})
    invoice = client.create(
        "invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line(2, 100, "4")]}
    )
    memo = credit_memo(client, 50.10)
    assert (memo["TotalAmt"], memo["RemainingCredit"], memo["Balance"]) == (50.1, 50.1, 50.1)
    return invoice, memo


def test_a_payment_linking_a_credit_memo_applies_its_credit_to_the_invoice(client, books):
    invoice, memo = books
    payment = client.create(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 0,
            "Line": [link(invoice["Id"], "Invoice", 30.05), link(memo["Id"], "CreditMemo", 30.05)],
        },
    )
    assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (0.0, 0.0)
    after = client.read("invoice", invoice["Id"])
    assert after["Balance"] == 199.95
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    used = client.read("creditmemo", memo["Id"])
    assert (used["RemainingCredit"], used["Balance"], used["SyncToken"]) == (20.05, 20.05, "1")
    assert used["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert client.read("customer", "1")["Balance"] == 179.9  # 199.95 owed less 20.05 credit
    client.post("payment", {"Id": payment["Id"], "SyncToken": "0"}, operation="delete")
    assert client.read("invoice", invoice["Id"])["Balance"] == 230.0
    back = client.read("creditmemo", memo["Id"])
    assert (back["RemainingCredit"], back["LinkedTxn"]) == (50.1, [])


def test_money_and_credit_pay_one_invoice_together(client, books):
    invoice, memo = books
    payment = client.create(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 100,
            "Line": [link(invoice["Id"], "Invoice", 150.10), link(memo["Id"], "CreditMemo", 50.10)],
        },
    )
    assert payment["UnappliedAmt"] == 0.0
    assert client.read("invoice", invoice["Id"])["Balance"] == 79.9
    assert client.read("creditmemo", memo["Id"])["RemainingCredit"] == 0.0


def test_credit_is_applied_at_most_once_and_never_beyond_what_remains(client, books):
    invoice, memo = books
    client.create(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 0,
            "Line": [link(invoice["Id"], "Invoice", 50), link(memo["Id"], "CreditMemo", 50)],
        },
    )
    again = client.post(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 0,
            "Line": [link(invoice["Id"], "Invoice", 0.11), link(memo["Id"], "CreditMemo", 0.11)],
        },
    )
    assert again.status_code == 400
    assert fault(again)["code"] == "6000"
    assert "remaining credit 0.10" in fault(again)["Detail"]
    assert client.read("invoice", invoice["Id"])["Balance"] == 180.0


def test_credit_pays_no_more_than_the_lines_it_applies_to(client, books):
    """The invoice lines may take no more than the money received and the credit used."""
    invoice, memo = books
    short = client.post(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 0,
            "Line": [link(invoice["Id"], "Invoice", 40), link(memo["Id"], "CreditMemo", 30)],
        },
    )
    assert fault(short)["code"] == "6000"
    assert "less than the amount applied" in fault(short)["Detail"]
    assert client.read("creditmemo", memo["Id"])["RemainingCredit"] == 50.1


def test_a_credit_memo_of_another_customer_or_currency_is_refused(client, books):
    invoice, _ = books
    client.create("customer", {"DisplayName": "Kea Ltd"})
    theirs = credit_memo(client, 10, customer="2")
    other = client.post(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 0,
            "Line": [link(invoice["Id"], "Invoice", 5), link(theirs["Id"], "CreditMemo", 5)],
        },
    )
    assert fault(other)["code"] == "6000"
    assert "another customer" in fault(other)["Detail"]
    # a credit memo in another currency than its customer's is refused when it is written
    # (a customer has one currency: test_quickbooks_currency.py), so none can reach a payment
    usd = client.post(
        "creditmemo",
        {
            "CustomerRef": {"value": "1"},
            "CurrencyRef": {"value": "USD"},
            "ExchangeRate": 1.6,
            "Line": [{"Amount": 10, **sales_line(1, 10, "5")}],
        },
    )
    assert fault(usd)["code"] == "6000"
    assert "currency" in fault(usd)["Detail"]


def test_a_credit_memo_cannot_be_cut_below_the_credit_applied_from_it(client, books):
    invoice, memo = books
    client.create(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 0,
            "Line": [link(invoice["Id"], "Invoice", 40), link(memo["Id"], "CreditMemo", 40)],
        },
    )
    memo = client.read("creditmemo", memo["Id"])
    line = dict(memo["Line"][0], Amount=30)
    line["SalesItemLineDetail"] = dict(line["SalesItemLineDetail"], UnitPrice=30)
    smaller = client.post(
        "creditmemo",
        {"Id": memo["Id"], "SyncToken": memo["SyncToken"], "sparse": True, "Line": [line]},
    )
    assert fault(smaller)["code"] == "6000"


def applied_credit(client, invoice, memo, total, invoiced, credit):
    return client.create(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": total,
            "Line": [
                link(invoice["Id"], "Invoice", invoiced),
                link(memo["Id"], "CreditMemo", credit),
            ],
        },
    )


def test_a_deleted_credit_memo_gives_the_invoice_its_credit_back(client, books):
    """Deleting a credit memo removes its applications: the invoice owes that credit again
    (the sandbox kept a payment line linking the deleted memo, and the invoice credited)."""
    invoice, memo = books
    only = applied_credit(client, invoice, memo, 0, 20, 20)
    both = applied_credit(client, invoice, memo, 100, 130.10, 30.10)
    assert client.read("invoice", invoice["Id"])["Balance"] == 79.9
    client.post("creditmemo", {"Id": memo["Id"], "SyncToken": "2"}, operation="delete")
    after = client.read("invoice", invoice["Id"])
    assert after["Balance"] == 130.0  # only the 100.00 of money still pays it
    assert after["LinkedTxn"] == [{"TxnId": both["Id"], "TxnType": "Payment"}]
    emptied = client.read("payment", only["Id"])
    assert (emptied["TotalAmt"], emptied["UnappliedAmt"], emptied["Line"]) == (0.0, 0.0, [])
    money_left = client.read("payment", both["Id"])
    assert money_left["UnappliedAmt"] == 0.0
    assert [(ln["Amount"], ln["LinkedTxn"][0]["TxnType"]) for ln in money_left["Line"]] == [
        (100.0, "Invoice")
    ]
    assert client.read("customer", "1")["Balance"] == 130.0


@pytest.mark.parametrize("operation", ["void", "delete"])
def test_an_invoice_voided_or_deleted_frees_the_credit_applied_to_it(client, books, operation):
    """Voiding or deleting an invoice leaves its payments with their money unapplied and the
    credit memos they applied with their credit again (the sandbox left a 0.00 payment
    applying 20.00 of credit to nothing: UnappliedAmt 20.00 and the memo still used)."""
    invoice, memo = books
    only = applied_credit(client, invoice, memo, 0, 20, 20)
    both = applied_credit(client, invoice, memo, 100, 130.10, 30.10)
    client.post("invoice", {"Id": invoice["Id"], "SyncToken": "2"}, operation=operation)
    freed = client.read("creditmemo", memo["Id"])
    assert (freed["RemainingCredit"], freed["LinkedTxn"]) == (50.1, [])
    emptied = client.read("payment", only["Id"])
    assert (emptied["UnappliedAmt"], emptied["Line"]) == (0.0, [])
    unapplied = client.read("payment", both["Id"])
    assert (unapplied["TotalAmt"], unapplied["UnappliedAmt"], unapplied["Line"]) == (
        100.0,
        100.0,
        [],
    )


def test_the_api_does_not_void_a_credit_memo(client, books):
    """Intuit's API voids invoices, sales receipts, payments and bill payments, not a credit
    memo (its .NET SDK refuses a void of any other entity): a person voids one in QuickBooks'
    screens. The sandbox is never more lenient than QuickBooks."""
    _, memo = books
    refused = client.post("creditmemo", {"Id": memo["Id"], "SyncToken": "0"}, operation="void")
    assert refused.status_code == 400 and fault(refused)["code"] == "500"
    assert client.read("creditmemo", memo["Id"])["RemainingCredit"] == 50.1


def test_a_credit_memo_voided_in_the_screens_takes_its_credit_back(client, books):
    """Voided in QuickBooks' screens, a credit memo stays with every amount zero, no credit
    left and "Voided" before its memo; the payments that applied it apply it no more (as when
    it is deleted) and the invoice owes that credit again."""
    invoice, memo = books
    only = applied_credit(client, invoice, memo, 0, 20, 20)
    both = applied_credit(client, invoice, memo, 100, 130.10, 30.10)
    url = f"{client.server.url}/_sandbox/ui/{client.realm_id}/creditmemo/{memo['Id']}/void"
    answer = client.http.post(url)
    assert answer.status_code == 200, answer.text
    voided = client.read("creditmemo", memo["Id"])
    assert (voided["TotalAmt"], voided["RemainingCredit"], voided["Balance"]) == (0.0, 0.0, 0.0)
    assert (voided["PrivateNote"], voided["LinkedTxn"]) == ("Voided", [])
    assert client.read("invoice", invoice["Id"])["Balance"] == 130.0
    assert client.read("payment", only["Id"])["Line"] == []
    money_left = client.read("payment", both["Id"])
    assert [(ln["Amount"], ln["LinkedTxn"][0]["TxnType"]) for ln in money_left["Line"]] == [
        (100.0, "Invoice")
    ]
