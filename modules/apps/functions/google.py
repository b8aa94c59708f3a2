"""Helpers for Google Drive and Google Docs: IDs from Make's file paths, export formats, file
extensions, and a template's replacements as Docs ``batchUpdate`` requests."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from modules.apps.functions import helper

_EXPORT_CHOICE = {
    "application/vnd.google-apps.document": "formatDocuments",
    "application/vnd.google-apps.spreadsheet": "formatSpreadsheets",
    "application/vnd.google-apps.presentation": "formatPresentations",
    "application/vnd.google-apps.drawing": "formatDrawings",
}
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "text/plain": ".txt",
    "text/html": ".html",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}


@helper("driveId", (1, 1))
def drive_id(ctx: Any, value: Any) -> str:
    """A file or folder ID from Make's picker path (``/folder/…/id``) or the ID itself; the
    root of My Drive for ``/`` or nothing."""
    parts = [part for part in str(value or "").split("/") if part]
    return parts[-1] if parts else "root"


@helper("driveExportFormat", (2, 2))
def drive_export_format(ctx: Any, mime_type: Any, parameters: Any) -> str:
    """The format a Google file is exported to (the module's choice for its kind), or empty
    for a file with binary content, which is downloaded as it is."""
    choice = _EXPORT_CHOICE.get(str(mime_type or ""))
    if choice is None:
        return ""
    settings = parameters if isinstance(parameters, Mapping) else {}
    return str(settings.get(choice) or "application/pdf")


@helper("fileExtension", (1, 1))
def file_extension(ctx: Any, mime_type: Any) -> str:
    """The usual extension of a MIME type, with its dot (``.pdf``)."""
    kind = str(mime_type or "")
    return _EXTENSIONS.get(kind) or mimetypes.guess_extension(kind) or ""


@helper("docsReplacements", (1, 2))
def docs_replacements(ctx: Any, values: Any, images: Any = None) -> list[dict[str, Any]]:
    """A template's values (``{"name": "Ada"}`` replaces ``{{name}}``) and image URLs (by the
    image's object ID) as Docs ``batchUpdate`` requests."""
    requests: list[dict[str, Any]] = []
    for key, value in (values or {}).items() if isinstance(values, Mapping) else []:
        requests.append(
            {
                "replaceAllText": {
                    "containsText": {"text": "{{" + str(key) + "}}", "matchCase": True},
                    "replaceText": "" if value is None else str(value),
                }
            }
        )
    for key, url in (images or {}).items() if isinstance(images, Mapping) else []:
        if url not in (None, ""):
            requests.append({"replaceImage": {"imageObjectId": str(key), "uri": str(url)}})
    return requests
