from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from riskmesh.contracts.schema import SCHEMA_DIR, render_schemas

ROOT = Path(__file__).resolve().parents[3]


def test_committed_json_schemas_match_the_models():
    rendered = render_schemas()
    drifted = [name for name, text in rendered.items()
               if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text() != text]
    assert not drifted, f"schemas drifted from the models: {drifted}; run `make schemas` and commit"
    stale = {p.name for p in SCHEMA_DIR.glob("*.schema.json")} - set(rendered)
    assert not stale, f"schemas without a model: {stale}"


def test_every_schema_is_valid_json_with_an_id():
    for path in SCHEMA_DIR.glob("*.schema.json"):
        assert json.loads(path.read_text())["$id"].endswith(path.name.replace(".schema", ""))


def test_import_a2a_from_the_repo_root_resolves_to_the_sdk():
    out = subprocess.run([sys.executable, "-c", "import a2a.types, a2a; print(a2a.__file__)"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "site-packages" in out, out
    assert not (ROOT / "a2a" / "__init__.py").exists()


def test_project_code_imports_as_the_riskmesh_namespace():
    out = subprocess.run([sys.executable, "-c", "import riskmesh.a2a, riskmesh.contracts; print('ok')"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ok"


ALLOWED_IN_CONTRACTS = {"__future__", "pydantic", "pydantic_settings", "riskmesh", "typing", "datetime", "decimal",
                        "json", "sys", "pathlib", "builtins", "hashlib", "collections", "gc"}


def test_contracts_depend_on_pydantic_only():
    for path in (ROOT / "contracts").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import ", "from ")):
                module = line.split()[1]
                assert module.split(".")[0] in ALLOWED_IN_CONTRACTS, f"{path.name}: {line}"
