"""Errors are JSON everywhere (404, 405, 413, 415, 500); the editor's built files and its
single-page fallback, or a page saying how to build it."""

from __future__ import annotations

import pytest

import webui.app


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/nope", 404, "not_found"),
        ("POST", "/api/nope", 404, "not_found"),
        ("DELETE", "/api/scenarios", 405, "method_not_allowed"),
        ("GET", "/api/scenarios/not-a-number", 404, "not_found"),
    ],
)
def test_routing_errors_are_json(owner, method, path, status, code):
    response = owner.open(method, path)
    assert response.status_code == status
    assert response.json == {
        "error": {"code": code, "message": response.json["error"]["message"], "path": None}
    }


def test_too_large_is_413_json(owner, app, service):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = owner.post("/api/scenarios", json={"name": "x" * 200})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_wrong_media_type_is_415(owner):
    response = owner.post("/api/scenarios", data="name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_unexpected_failures_are_500_json_without_details(owner, service, monkeypatch):
    def explode(**_):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "list_scenarios", explode)
    response = owner.get("/api/scenarios")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal"
    assert "secret internals" not in response.get_data(as_text=True)


def test_api_answers_are_not_cached(owner):
    assert owner.get("/api/auth/state").headers["Cache-Control"] == "no-store"


@pytest.fixture
def built(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "app.js").write_text("console.log('editor')")
    monkeypatch.setattr(webui.app, "STATIC_DIR", tmp_path)
    return tmp_path


def test_the_built_editor_is_served_with_a_spa_fallback(client, built):
    for path in ("/", "/scenarios/3/edit", "/settings"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"id=root" in response.data
        assert response.mimetype == "text/html"
    with client.get("/assets/app.js") as asset:
        assert asset.status_code == 200 and b"editor" in asset.data
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/api/unknown").json["error"]["code"] == "not_found"
    assert client.get("/hooks/unknown").status_code == 404
    assert client.post("/somewhere").status_code in (404, 405)


def test_without_a_build_the_page_says_how_to_build(client, tmp_path, monkeypatch):
    monkeypatch.setattr(webui.app, "STATIC_DIR", tmp_path)
    response = client.get("/")
    assert response.status_code == 200
    assert b"make install" in response.data
