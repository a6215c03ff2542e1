"""The decision policy as a versioned YAML file (issue #4), and `riskmesh policy validate|diff`.

A policy file holds the aggregation weights and thresholds, per-segment and per-branch threshold
overrides, the hard rules and the fail-closed outcome. Threshold precedence, per threshold:
branch ▶ segment ▶ the file's default; every combination must keep review ≤ block.

`to_policy` maps the whole file onto the aggregation agent's `Policy`, which applies all of it (see
agents/aggregation.py). The file is the source of truth: `configured_policies` reads the live policy
(`RISKMESH_POLICY_FILE`, else `$RISKMESH_DATA_DIR/policies/active.yaml` once `riskmesh policy deploy` wrote
it, else the model card's calibrated policy) and the shadow challenger (`RISKMESH_SHADOW_POLICY_FILE`).
Policy files are not package data: an installed service is pointed at its file by configuration.

YAML 1.1 reads a bare `off` as false: a hard rule written `off` unquoted is read as "off".
Duplicate keys are refused (PyYAML would otherwise keep the last one silently).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from riskmesh.agents.aggregation import HardRules as PolicyHardRules
from riskmesh.agents.aggregation import Policy, ThresholdOverride
from riskmesh.contracts.settings import Settings

__all__ = [
    "PolicyFile",
    "PolicyFileError",
    "configured_policies",
    "diff_policies",
    "load_policy_file",
    "policy_app",
    "to_policy",
    "validation_errors",
]

Segment = Literal["retail", "sme", "corporate", "private"]
RuleAction = Literal["block", "review", "off"]
Threshold = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Thresholds(_Strict):
    """An override: a threshold left out falls back to the next scope."""

    review_threshold: Threshold | None = None
    block_threshold: Threshold | None = None


class HardRules(_Strict):
    sanctions_match: RuleAction = "block"
    frozen_account: RuleAction = "block"
    reportable_amount: RuleAction = "review"
    reportable_amount_usd: float = Field(default=10_000, gt=0, description="≈USD at or above which it applies")

    @field_validator("sanctions_match", "frozen_account", "reportable_amount", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value


class FailClosed(_Strict):
    degraded_decision: Literal["review", "block"] = "review"

    @field_validator("degraded_decision", mode="before")
    @classmethod
    def _never_pass(cls, value: Any) -> Any:
        if value not in ("review", "block"):
            raise ValueError(f"a degraded decision must be 'review' or 'block', never {value!r} (fail closed)")
        return value


class PolicyFile(_Strict):
    """One versioned policy document."""

    version: str = Field(min_length=1)
    description: str = ""
    weights: dict[str, Threshold] = Field(min_length=1, description="agent ▶ trust in 0..1")
    review_threshold: Threshold
    block_threshold: Threshold
    high_value_usd: float | None = Field(default=None, gt=0)
    segments: dict[Segment, Thresholds] = Field(default_factory=dict)
    branches: dict[str, Thresholds] = Field(default_factory=dict, description="branch id ▶ override")
    hard_rules: HardRules = Field(default_factory=HardRules)
    fail_closed: FailClosed = Field(default_factory=FailClosed)

    def thresholds_for(self, segment: Segment | None = None, branch: str | None = None) -> tuple[float, float]:
        """(review, block) for a customer segment and branch: branch ▶ segment ▶ default, per threshold."""
        review, block = self.review_threshold, self.block_threshold
        for scope in (self.segments.get(segment) if segment else None, self.branches.get(branch) if branch else None):
            if scope is not None:
                review = scope.review_threshold if scope.review_threshold is not None else review
                block = scope.block_threshold if scope.block_threshold is not None else block
        return review, block

    @model_validator(mode="after")
    def _review_not_above_block(self) -> PolicyFile:
        for segment in (None, *sorted(self.segments)):
            for branch in (None, *sorted(self.branches)):
                review, block = self.thresholds_for(segment, branch)
                if review > block:
                    field = self._field_of(segment, branch)
                    raise PydanticCustomError(
                        "threshold_order",
                        "{field}: review threshold {review} exceeds block threshold {block}",
                        {"field": field, "review": review, "block": block},
                    )
        return self

    def _field_of(self, segment: Segment | None, branch: str | None) -> str:
        """The most specific scope that sets a threshold in a failing combination."""
        if branch is not None:
            scope, prefix = self.branches[branch], f"branches.{branch}."
        elif segment is not None:
            scope, prefix = self.segments[segment], f"segments.{segment}."
        else:
            return "review_threshold"
        name = "review_threshold" if scope.review_threshold is not None else "block_threshold"
        return prefix + name


class PolicyFileError(ValueError):
    """The file cannot be read or is not a YAML mapping."""


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_policy_file(path: Path | str) -> PolicyFile:
    """Read and validate one policy file. Raises PolicyFileError or pydantic.ValidationError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyFileError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyFileError(f"{path}: a policy file must be a YAML mapping")
    return PolicyFile.model_validate(data)


def to_policy(pf: PolicyFile) -> Policy:
    """The aggregation Policy that applies the whole file."""
    return Policy(
        version=pf.version,
        weights=dict(pf.weights),
        review_threshold=pf.review_threshold,
        block_threshold=pf.block_threshold,
        high_value_usd=pf.high_value_usd,
        segments={k: ThresholdOverride(**v.model_dump()) for k, v in pf.segments.items()},
        branches={k: ThresholdOverride(**v.model_dump()) for k, v in pf.branches.items()},
        hard_rules=PolicyHardRules(**pf.hard_rules.model_dump()),
        degraded_decision=pf.fail_closed.degraded_decision,
    )


def configured_policies(settings: Settings | None = None) -> tuple[Policy, Policy | None]:
    """(live, shadow) as configured. Raises PolicyFileError or ValidationError for a bad file: an agent must
    not start on a policy it cannot read (the live file never silently falls back to the model card)."""
    from riskmesh.agents.aggregation import deployed_policy

    settings = settings or Settings()
    active = settings.active_policy_path
    if settings.policy_file is not None or active.exists():
        live = to_policy(load_policy_file(active))
    else:
        live = deployed_policy()
    shadow = to_policy(load_policy_file(settings.shadow_policy_file)) if settings.shadow_policy_file else None
    return live, shadow


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def diff_policies(a: PolicyFile, b: PolicyFile) -> list[dict[str, Any]]:
    """Every dotted path whose effective value differs (defaults included; absent = None), sorted."""
    fa, fb = _flatten(a.model_dump(mode="json")), _flatten(b.model_dump(mode="json"))
    return [
        {"path": path, "a": fa.get(path), "b": fb.get(path)}
        for path in sorted(fa.keys() | fb.keys())
        if fa.get(path) != fb.get(path)
    ]


def validation_errors(exc: ValidationError | PolicyFileError) -> list[dict[str, str]]:
    """[{field, message}] with dotted field paths ("" for the file itself)."""
    if isinstance(exc, PolicyFileError):
        return [{"field": "", "message": str(exc)}]
    errors = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        field = ctx.get("field") or ".".join(str(part) for part in err["loc"])
        errors.append({"field": str(field), "message": err["msg"]})
    return errors


policy_app = typer.Typer(help="Validate, diff, backtest and deploy versioned policy files (policies/*.yaml).",
                         no_args_is_help=True)


@policy_app.command("validate")
def validate_command(file: Annotated[Path, typer.Argument(help="policy YAML file")]) -> None:
    """Print {ok, version}, or {ok: false, errors: [{field, message}]} and exit 1."""
    try:
        pf = load_policy_file(file)
    except (ValidationError, PolicyFileError) as exc:
        typer.echo(json.dumps({"ok": False, "errors": validation_errors(exc)}))
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"ok": True, "version": pf.version}))


@policy_app.command("diff")
def diff_command(
    a: Annotated[Path, typer.Argument(help="policy YAML file (before)")],
    b: Annotated[Path, typer.Argument(help="policy YAML file (after)")],
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list of {path, a, b}")] = False,
) -> None:
    """The paths whose values differ between two policy files (exit 1 if either is invalid)."""
    loaded = []
    for path in (a, b):
        try:
            loaded.append(load_policy_file(path))
        except (ValidationError, PolicyFileError) as exc:
            typer.echo(json.dumps({"ok": False, "file": str(path), "errors": validation_errors(exc)}))
            raise typer.Exit(1) from None
    changes = diff_policies(*loaded)
    if as_json:
        typer.echo(json.dumps(changes))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{loaded[0].version} ▶ {loaded[1].version}")
    table.add_column("path")
    table.add_column(str(a))
    table.add_column(str(b))
    for change in changes:
        table.add_row(change["path"], json.dumps(change["a"]), json.dumps(change["b"]))
    Console().print(table if changes else "no differences")
