"""Google Drive and Google Docs defined as data, against one Google sandbox: files uploaded,
downloaded and exported, documents made from templates and from text."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes

TEMPLATE = {
    "id": "tmpl1",
    "name": "Certificate",
    "mimeType": "application/vnd.google-apps.document",
    "parents": ["folderT"],
    "content": "This certifies that {{Full Name}} attended {{Course}}.",
}
PHOTO = {
    "id": "photo1",
    "name": "photo.png",
    "mimeType": "image/png",
    "parents": ["root"],
    "data": "PNG-bytes",
}


@pytest.fixture
def google():
    with AppSandboxes(["google-drive", "google-docs"]) as sandboxes:
        sandboxes.seed({"drive_files": [TEMPLATE, PHOTO]})
        yield sandboxes


def _flow(*modules):
    return {"name": "t", "flow": list(modules), "metadata": {}}


def _module(id_, module, mapper, version=1):
    return {"id": id_, "module": module, "version": version, "mapper": mapper, "parameters": {}}


def _outputs(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    assert module["errors"] == 0, module["calls"][-1]["error"]
    return [bundle for call in module["calls"] for bundle in call["output"]]


def _file(google, identifier):
    [found] = [f for f in google.records("drive_files") if f["id"] == identifier]
    return found


def test_a_document_from_a_template_then_exported_as_pdf(google):
    record = google.run(
        _flow(
            _module(
                3,
                "google-docs:createADocumentFromTemplate",
                {
                    "select": "dropdown",
                    "from": "drive",
                    "destination": "drive",
                    "name": "Ada's certificate",
                    "document": "/folderT/tmpl1",
                    "folderId": "/out/folderOut",
                    "requests": {"Full Name": "Ada Lovelace", "Course": "Engines 101"},
                },
            ),
            _module(
                6,
                "google-docs:exportADocument",
                {"destination": "drive", "mimeType": "application/pdf", "document": "{{3.id}}"},
            ),
        )
    )
    [made] = _outputs(record, 3)
    copy = _file(google, made["id"])
    assert copy["name"] == "Ada's certificate" and copy["parents"] == ["folderOut"]
    assert copy["content"] == "This certifies that Ada Lovelace attended Engines 101."
    assert _file(google, "tmpl1")["content"] == TEMPLATE["content"]  # the template stays
    [exported] = _outputs(record, 6)
    assert exported["filename"] == "Ada's certificate.pdf"
    assert exported["data"].startswith("%PDF-1.4") and "Ada Lovelace" in exported["data"]


def test_a_new_document_with_its_text_in_a_folder(google):
    record = google.run(
        _flow(
            _module(
                3,
                "google-docs:createADocument",
                {
                    "name": "Onboarding",
                    "content": "Welcome!",
                    "destination": "drive",
                    "folderId": "/folderX",
                    "header": False,
                    "footer": False,
                },
            )
        )
    )
    [made] = _outputs(record, 3)
    document = _file(google, made["id"])
    assert (document["name"], document["content"], document["parents"]) == (
        "Onboarding",
        "Welcome!",
        ["folderX"],
    )


def test_download_converts_google_files_and_keeps_others(google):
    formats = {
        "formatDocuments": "application/pdf",
        "formatSpreadsheets": "x",
        "formatPresentations": "x",
        "formatDrawings": "image/jpeg",
    }
    record = google.run(
        _flow(
            _module(1, "google-drive:getAFile", {"select": "map", "file": "/tmpl1", **formats}, 4),
            _module(2, "google-drive:getAFile", {"select": "map", "file": "photo1", **formats}, 4),
        )
    )
    [document] = _outputs(record, 1)
    assert document["name"] == "Certificate.pdf" and document["data"].startswith("%PDF")
    [photo] = _outputs(record, 2)
    assert (photo["name"], photo["data"], photo["mimeType"]) == (
        "photo.png",
        "PNG-bytes",
        "image/png",
    )


def test_upload_a_file_into_a_folder(google):
    record = google.run(
        _flow(
            _module(
                12,
                "google-drive:uploadAFile",
                {
                    "select": "value",
                    "destination": "drive",
                    "folderId": "/a/folderUp",
                    "filename": "image-1.png",
                    "title": "New Image",
                    "data": "{{toBinary('img')}}",
                    "convert": False,
                },
                4,
            )
        )
    )
    [uploaded] = _outputs(record, 12)
    stored = _file(google, uploaded["id"])
    assert (stored["name"], stored["mimeType"], stored["parents"]) == (
        "New Image",
        "image/png",
        ["folderUp"],
    )
