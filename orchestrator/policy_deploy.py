"""`riskmesh policy deploy`: make a policy file the live one, with a `policy.changed` audit event.

The use case (also called by the console's admin endpoint): validate the file, refuse a changed policy that
kept its version (every decision names the version it used, so one version must mean one policy), then
write the file to the active location (`RISKMESH_POLICY_FILE`, else `$RISKMESH_DATA_DIR/policies/active.yaml`)
and chain the audit event. The new file is staged beside the target, the event is appended, and only then
is the stage renamed over the target (atomic on one filesystem): a failed audit append changes nothing.
Agents read the policy when they start: restart the aggregation agent to apply it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskmesh.agents.policy_file import PolicyFile, PolicyFileError, diff_policies, load_policy_file
from riskmesh.contracts.settings import Settings
from riskmesh.orchestrator.audit import AuditLog

__all__ = ["AUDIT_ACTION", "AUDIT_SUBJECT", "PolicyDeployError", "deploy_policy"]

AUDIT_ACTION = "policy.changed"
AUDIT_SUBJECT = "policy:active"
MAX_DIFF_PATHS = 50


class PolicyDeployError(ValueError):
    """The policy cannot be deployed; `errors` is [{field, message}] as `riskmesh policy validate` prints."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [{"field": "", "message": message}]


def deploy_policy(path: Path | str, actor: str, audit_log: AuditLog, settings: Settings) -> dict[str, Any]:
    """Validate `path`, make it the active policy and audit it; return what happened.

    Returns {ok, changed, old_version, new_version, target, changes, audit_seq}; raises PolicyDeployError.
    Deploying the policy already active (same content) is a no-op without an audit event.
    """
    from riskmesh.agents.policy_file import validation_errors

    source = Path(path)
    if not actor.strip():
        raise PolicyDeployError("an actor is required: who deploys this policy")
    try:
        new = load_policy_file(source)
    except (ValidationError, PolicyFileError) as exc:
        raise PolicyDeployError(f"{source} is not a valid policy file", validation_errors(exc)) from None
    target = settings.active_policy_path
    if target.exists() and target.resolve() == source.resolve():
        raise PolicyDeployError(f"{source} is the active policy file itself; deploy a copy under a new version")
    old = _current(target)
    if old is not None and old == new:
        return {"ok": True, "changed": False, "old_version": old.version, "new_version": new.version,
                "target": str(target), "changes": 0, "audit_seq": None}
    if old is not None and old.version == new.version:
        raise PolicyDeployError(f"{source} changes policy {new.version} but keeps its version; give it a new version")
    data = source.read_bytes()
    changes = diff_policies(old, new) if old is not None else []
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.with_name(f".{target.name}.{os.getpid()}.staged")
    stage.write_bytes(data)
    try:
        event = audit_log.append(actor, AUDIT_ACTION, AUDIT_SUBJECT, {
            "old_version": old.version if old else None,
            "new_version": new.version,
            "source": str(source),
            "target": str(target),
            "sha256": hashlib.sha256(data).hexdigest(),
            "changes": len(changes),
            "diff": changes[:MAX_DIFF_PATHS],
        })
        stage.replace(target)
    finally:
        stage.unlink(missing_ok=True)
    return {"ok": True, "changed": True, "old_version": old.version if old else None, "new_version": new.version,
            "target": str(target), "changes": len(changes), "audit_seq": event.seq}


def _current(target: Path) -> PolicyFile | None:
    """The active policy, or None when there is none yet or it cannot be read (then any valid file may replace it)."""
    if not target.exists():
        return None
    try:
        return load_policy_file(target)
    except (ValidationError, PolicyFileError):
        return None
