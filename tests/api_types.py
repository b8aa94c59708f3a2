"""The front end's API types, generated from ``/api/openapi.json`` by openapi-typescript.

``python -m tests.api_types`` rewrites ``webui/frontend/src/api.gen.ts`` (``make api-types``);
``python -m tests.api_types --check`` exits 1 when the committed file is not what the generator
makes of today's models (``make lint`` and ``tests/test_lint.py`` run it), so a change to
``webui/api/models.py`` cannot leave the editor's types behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "webui" / "frontend"
GENERATED = FRONTEND / "src" / "api.gen.ts"
# Its own package: openapi-typescript needs TypeScript 5's compiler API, the editor uses 7.
GENERATOR = FRONTEND / "codegen" / "node_modules" / ".bin" / "openapi-typescript"
PRETTIER = FRONTEND / "node_modules" / ".bin" / "prettier"
HEADER = (
    "// Generated from /api/openapi.json by openapi-typescript: do not edit.\n"
    "// After changing webui/api/models.py run `make api-types`.\n"
)


def generate() -> str:
    """The TypeScript that today's OpenAPI document gives, formatted like the rest of src/."""
    from webui.openapi import standalone_document

    for tool in (GENERATOR, PRETTIER):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run `make install`")
    with tempfile.TemporaryDirectory() as work:
        document, output = Path(work) / "openapi.json", Path(work) / "api.gen.ts"
        document.write_text(json.dumps(standalone_document(), indent=2))
        subprocess.run(
            [GENERATOR, document, "--output", output, "--alphabetize"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        text = HEADER + output.read_text()
    formatted = subprocess.run(
        [PRETTIER, "--stdin-filepath", GENERATED.relative_to(FRONTEND)],
        input=text,
        cwd=FRONTEND,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return formatted.stdout


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" not in argv:
        GENERATED.write_text(text)
        return 0
    if GENERATED.exists() and GENERATED.read_text() == text:
        return 0
    print(f"{GENERATED.relative_to(ROOT)} is out of date: run `make api-types`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
