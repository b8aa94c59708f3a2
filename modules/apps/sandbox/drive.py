"""Route handlers of the Google Drive and Google Docs sandboxes, over one ``drive_files``
collection: ``{id, name, mimeType, parents, data}`` for files, and ``content`` (the text) for
Google Docs documents (``application/vnd.google-apps.document``).

Drive: file metadata and downloads (``alt=media``; a Google document must be exported), exports
(a document's text as "PDF" or "DOCX" bytes that start with the format's magic), copies, media
uploads and moves (``addParents``/``removeParents``). Docs: create, get, and ``batchUpdate`` with
``replaceAllText``, ``insertText``, ``replaceImage``, ``createHeader``/``createFooter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask

from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.sandboxing import json_response

FILES = "drive_files"
DOCUMENT = "application/vnd.google-apps.document"
GOOGLE_TYPES = "application/vnd.google-apps."
EXPORT_MAGIC = {
    "application/pdf": b"%PDF-1.4\n",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04docx\n",
    "text/plain": b"",
    "text/html": b"<!-- html -->\n",
}


def _error(status: int, reason: str, message: str) -> flask.Response:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message}],
        }
    }
    return json_response(body, status)


def _file(sandbox: AppSandbox, identifier: Any) -> dict[str, Any] | None:
    return sandbox.state.records[FILES].get(str(identifier))


def _not_found(identifier: Any) -> flask.Response:
    return _error(404, "notFound", f"File not found: {identifier}.")


def metadata(file: Mapping[str, Any]) -> dict[str, Any]:
    data = file.get("data")
    shown = {
        "kind": "drive#file",
        "id": file["id"],
        "name": file.get("name"),
        "mimeType": file.get("mimeType"),
        "parents": list(file.get("parents") or []),
    }
    if data is not None:
        shown["size"] = str(len(data if isinstance(data, bytes) else str(data).encode()))
    return shown


def _new_id(sandbox: AppSandbox) -> str:
    return f"file{sandbox.state.next_number(FILES):06d}"


def get_file(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    file = _file(sandbox, request.path["id"])
    if file is None:
        return _not_found(request.path["id"])
    if request.query.get("alt") != "media":
        return json_response(metadata(file))
    if str(file.get("mimeType", "")).startswith(GOOGLE_TYPES):
        return _error(
            403,
            "fileNotDownloadable",
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
        )
    data = file.get("data")
    content = data if isinstance(data, bytes) else str(data or "").encode()
    return flask.Response(content, mimetype=file.get("mimeType") or "application/octet-stream")


def export_file(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    file = _file(sandbox, request.path["id"])
    if file is None:
        return _not_found(request.path["id"])
    kind = str(request.query.get("mimeType") or "")
    if not str(file.get("mimeType", "")).startswith(GOOGLE_TYPES) or kind not in EXPORT_MAGIC:
        return _error(
            400, "badRequest", f"Export only supports Docs Editors files (not to {kind})."
        )
    content = EXPORT_MAGIC[kind] + str(file.get("content") or "").encode("utf-8")
    return flask.Response(content, mimetype=kind)


def copy_file(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    source = _file(sandbox, request.path["id"])
    if source is None:
        return _not_found(request.path["id"])
    body = request.body if isinstance(request.body, Mapping) else {}
    copy = {
        **source,
        "id": _new_id(sandbox),
        "name": body.get("name") or f"Copy of {source.get('name')}",
        "parents": body.get("parents") or list(source.get("parents") or []),
    }
    sandbox.state.records[FILES][copy["id"]] = copy
    return json_response(metadata(copy))


def upload_file(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    if request.query.get("uploadType") != "media":
        return _error(400, "badRequest", "The sandbox takes uploadType=media uploads.")
    file: dict[str, Any] = {
        "id": _new_id(sandbox),
        "name": "Untitled",
        "mimeType": request.headers.get("Content-Type") or "application/octet-stream",
        "parents": ["root"],
        "data": request.raw,
    }
    sandbox.state.records[FILES][file["id"]] = file
    return json_response(metadata(file))


def update_file(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    file = _file(sandbox, request.path["id"])
    if file is None:
        return _not_found(request.path["id"])
    body = request.body if isinstance(request.body, Mapping) else {}
    if body.get("name"):
        file["name"] = body["name"]
    parents = [
        p
        for p in file.get("parents") or []
        if p not in str(request.query.get("removeParents") or "").split(",")
    ]
    parents += [
        p for p in str(request.query.get("addParents") or "").split(",") if p and p not in parents
    ]
    file["parents"] = parents
    return json_response(metadata(file))


# -- Docs -------------------------------------------------------------------------------------


def create_document(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body if isinstance(request.body, Mapping) else {}
    document: dict[str, Any] = {
        "id": _new_id(sandbox),
        "name": body.get("title") or "Untitled document",
        "mimeType": DOCUMENT,
        "parents": ["root"],
        "content": "",
    }
    sandbox.state.records[FILES][document["id"]] = document
    return json_response(_document(document))


def _document(file: Mapping[str, Any]) -> dict[str, Any]:
    text = str(file.get("content") or "")
    return {
        "documentId": file["id"],
        "title": file.get("name"),
        "body": {
            "content": [
                {
                    "startIndex": 1,
                    "endIndex": len(text) + 1,
                    "paragraph": {"elements": [{"textRun": {"content": text}}]},
                }
            ]
        },
        "revisionId": f"rev{len(text)}",
    }


def get_document(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    file = _file(sandbox, request.path["id"])
    if file is None or file.get("mimeType") != DOCUMENT:
        return _error(404, "notFound", "Requested entity was not found.")
    return json_response(_document(file))


def batch_update(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    file = _file(sandbox, request.path["id"])
    if file is None or file.get("mimeType") != DOCUMENT:
        return _error(404, "notFound", "Requested entity was not found.")
    body = request.body if isinstance(request.body, Mapping) else {}
    replies: list[dict[str, Any]] = []
    for item in body.get("requests") or []:
        replies.append(_apply(file, item))
    return json_response({"documentId": file["id"], "replies": replies})


def _apply(file: dict[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    text = str(file.get("content") or "")
    if "replaceAllText" in item:
        spec = item["replaceAllText"]
        needle = str((spec.get("containsText") or {}).get("text") or "")
        count = text.count(needle) if needle else 0
        file["content"] = (
            text.replace(needle, str(spec.get("replaceText") or "")) if needle else text
        )
        return (
            {"replaceAllText": {"occurrencesChanged": count}} if count else {"replaceAllText": {}}
        )
    if "insertText" in item:
        spec = item["insertText"]
        index = int((spec.get("location") or {}).get("index") or 1) - 1
        file["content"] = text[:index] + str(spec.get("text") or "") + text[index:]
        return {}
    if "replaceImage" in item:
        file.setdefault("images", {})[str(item["replaceImage"].get("imageObjectId"))] = item[
            "replaceImage"
        ].get("uri")
        return {}
    if "createHeader" in item:
        return {"createHeader": {"headerId": "kix.header"}}
    if "createFooter" in item:
        return {"createFooter": {"footerId": "kix.footer"}}
    return {}
