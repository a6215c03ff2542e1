"""The repo-root folder a2a/ is riskmesh.a2a and must never shadow the a2a-sdk package named a2a."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import a2a
import a2a.types

import riskmesh.a2a.client

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_the_a2a_folder_has_no_init_file_that_could_shadow_the_sdk():
    assert (REPO_ROOT / "a2a").is_dir()
    assert not (REPO_ROOT / "a2a" / "__init__.py").exists()


def test_import_a2a_types_from_the_repo_root_resolves_to_the_sdk_in_site_packages():
    code = "import sys, a2a.types; print(sys.path[0] == ''); print(a2a.types.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out[0] == "True"  # the repo root really was first on sys.path
    assert "site-packages" in out[1]
    assert not out[1].startswith(str(REPO_ROOT / "a2a"))


def test_in_this_process_a2a_is_the_sdk_and_riskmesh_a2a_is_the_project_folder():
    assert "site-packages" in a2a.types.__file__
    assert hasattr(a2a.types, "AgentCard")
    assert Path(riskmesh.a2a.client.__file__).resolve().parent == REPO_ROOT / "a2a"
