"""Contacts: create/update, unique names among active contacts, lookups by id or name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import Record, ValidationFailed
from .tenant import Tenant, WriteContext, find_by_id

MSG_DUPLICATE_CONTACT = (
    "The contact name {name} is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)
# The spec's example error: a transaction names its contact by one of these (NOTES §12).
MSG_NO_CONTACT = (
    "The Contact must contain at least 1 of the following elements to identify the contact: "
    "Name, ContactID, ContactNumber"
)


CONTACT_FIELDS = (
    "ContactNumber",
    "AccountNumber",
    "ContactStatus",
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "SkypeUserName",
    "BankAccountDetails",
    "TaxNumber",
    "CompanyNumber",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "Addresses",
    "Phones",
    "DefaultCurrency",
    "ContactPersons",
    "Website",
    "ContactGroups",
)


def write_contact(context: WriteContext, data: Record) -> Record:
    """Create a contact, or update the one named by ``ContactID``."""
    tenant = context.tenant
    existing = find_by_id(tenant.contacts, data.get("ContactID"))
    if data.get("ContactID") and existing is None and not context.seeding:
        raise ValidationFailed(f"The contact with ContactID {data['ContactID']} was not found")
    changes = {key: data[key] for key in CONTACT_FIELDS if key in data}
    record = {**existing, **changes} if existing else new_contact(context, data, changes)
    validate_contact(tenant, record)
    context.stamp(record, data.get("UpdatedDateUTC"))
    tenant.contacts[record["ContactID"]] = record
    context.event("CONTACT", "UPDATE" if existing else "CREATE", record["ContactID"])
    return record


def new_contact(context: WriteContext, data: Record, changes: Record) -> Record:
    """A contact record with Xero's defaults for fields the caller left out."""
    return {
        "ContactID": context.new_id(data.get("ContactID")),
        "ContactStatus": "ACTIVE",
        "Name": None,
        "EmailAddress": "",
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasAttachments": False,
        **changes,
    }


def validate_contact(tenant: Tenant, record: Record) -> None:
    """Name present and unique (case-insensitively) among other ACTIVE contacts."""
    name = (record.get("Name") or "").strip()
    if not name:
        raise ValidationFailed("The contact name must be specified.")
    if record.get("ContactStatus", "ACTIVE") not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
        raise ValidationFailed(f"'{record['ContactStatus']}' is not a valid ContactStatus")
    if record.get("ContactStatus", "ACTIVE") != "ACTIVE":
        return
    for other in tenant.contacts.values():
        same_name = (other.get("Name") or "").strip().casefold() == name.casefold()
        if (
            same_name
            and other["ContactID"] != record["ContactID"]
            and (other.get("ContactStatus") == "ACTIVE")
        ):
            raise ValidationFailed(MSG_DUPLICATE_CONTACT.format(name=name))


def resolve_contact(context: WriteContext, ref: Any) -> tuple[Record | None, str | None]:
    """The contact a document names by one of ``ContactID``, ``ContactNumber`` or ``Name``
    (NOTES §12) — an unknown name means "create it", returned as the second item.

    Raises:
        ValidationFailed: no contact given, or an unknown ContactID or ContactNumber.
    """
    keys = ("ContactID", "ContactNumber", "Name")
    if not isinstance(ref, Mapping) or not any(ref.get(key) for key in keys):
        raise ValidationFailed(MSG_NO_CONTACT)
    if ref.get("ContactID"):
        contact = find_by_id(context.tenant.contacts, ref["ContactID"])
        if contact is None:
            raise ValidationFailed(f"The contact with ContactID {ref['ContactID']} was not found")
        return contact, None
    if ref.get("ContactNumber"):
        number = str(ref["ContactNumber"])
        for contact in context.tenant.contacts.values():
            if contact.get("ContactNumber") == number:
                return contact, None
        if not ref.get("Name"):
            raise ValidationFailed(f"The contact with ContactNumber {number} was not found")
    wanted = str(ref["Name"]).strip().casefold()
    for contact in context.tenant.contacts.values():
        if (contact.get("Name") or "").strip().casefold() == wanted:
            return contact, None
    return None, str(ref["Name"]).strip()


def contact_summary(contact: Record) -> Record:
    """The contact as embedded in invoices, quotes and payments."""
    keys = ("ContactID", "ContactNumber", "Name", "FirstName", "LastName", "EmailAddress")
    return {key: contact[key] for key in keys if contact.get(key) is not None}
