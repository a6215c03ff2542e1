from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from riskmesh.agents.aggregation import Policy
from riskmesh.agents.policy_file import (
    PolicyFile,
    PolicyFileError,
    diff_policies,
    load_policy_file,
    policy_app,
    to_policy,
    validation_errors,
)

SHIPPED = Path(__file__).resolve().parents[3] / "policies" / "policy-1.yaml"
runner = CliRunner()


def shipped_data() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def fields_of(data: dict) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        PolicyFile.model_validate(data)
    return [e["field"] for e in validation_errors(caught.value)]


def test_the_shipped_policy_validates_with_the_documented_values():
    pf = load_policy_file(SHIPPED)
    assert pf.version == "policy-1"
    assert pf.weights == {"fraud": 1.0, "compliance": 0.1, "behaviour": 0.05, "credit": 0.05}
    assert (pf.review_threshold, pf.block_threshold) == (0.12, 0.995)
    assert pf.hard_rules.sanctions_match == "block"
    assert pf.hard_rules.frozen_account == "block"
    assert pf.hard_rules.reportable_amount == "review"
    assert pf.fail_closed.degraded_decision == "review"


def test_a_review_threshold_above_the_block_threshold_is_refused_naming_the_field():
    assert fields_of({**shipped_data(), "review_threshold": 0.9, "block_threshold": 0.5}) == ["review_threshold"]


def test_a_segment_override_is_checked_against_the_default_it_falls_back_to():
    data = {**shipped_data(), "segments": {"sme": {"review_threshold": 0.999}}}
    assert fields_of(data) == ["segments.sme.review_threshold"]


def test_a_branch_override_is_checked_against_every_segment_it_may_meet():
    data = {**shipped_data(), "segments": {"corporate": {"block_threshold": 0.3}},
            "branches": {"BR-9": {"review_threshold": 0.5}}}  # fmt: skip
    assert fields_of(data) == ["branches.BR-9.review_threshold"]


def test_a_branch_wins_over_the_segment_threshold_by_threshold():
    pf = load_policy_file(SHIPPED)
    assert pf.thresholds_for("private", "BR-0001") == (0.10, 0.99)
    assert pf.thresholds_for("retail") == (0.12, 0.995)
    assert pf.thresholds_for("retail", "unknown-branch") == (0.12, 0.995)


def test_fail_closed_pass_is_refused_naming_the_field():
    data = {**shipped_data(), "fail_closed": {"degraded_decision": "pass"}}
    with pytest.raises(ValidationError) as caught:
        PolicyFile.model_validate(data)
    [error] = validation_errors(caught.value)
    assert error["field"] == "fail_closed.degraded_decision"
    assert "never 'pass'" in error["message"]


def test_unknown_keys_are_refused_at_any_level():
    assert fields_of({**shipped_data(), "treshold": 0.5}) == ["treshold"]
    assert fields_of({**shipped_data(), "hard_rules": {"sanctions": "block"}}) == ["hard_rules.sanctions"]
    assert fields_of({**shipped_data(), "segments": {"wholesale": {}}}) == ["segments.wholesale.[key]"]


def test_weights_outside_zero_to_one_are_refused_naming_the_agent():
    assert fields_of({**shipped_data(), "weights": {"fraud": 1.5}}) == ["weights.fraud"]


def test_a_bare_yaml_off_hard_rule_reads_as_off(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace("reportable_amount: review", "reportable_amount: off"))
    assert load_policy_file(path).hard_rules.reportable_amount == "off"


def test_duplicate_keys_and_non_mappings_are_refused(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text(SHIPPED.read_text(encoding="utf-8") + "\nreview_threshold: 0.5\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match="duplicate key 'review_threshold'"):
        load_policy_file(dup)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match="mapping"):
        load_policy_file(listed)


def test_the_diff_of_two_files_lists_exactly_the_changed_paths_sorted(tmp_path):
    data = shipped_data()
    changed = {**data, "version": "policy-2", "block_threshold": 0.99,
               "segments": {**data["segments"], "retail": {"review_threshold": 0.2}},
               "hard_rules": {**data["hard_rules"], "reportable_amount": "block"}}  # fmt: skip
    a, b = load_policy_file(SHIPPED), load_policy_file(write(tmp_path, "b.yaml", changed))
    assert diff_policies(a, b) == [
        {"path": "block_threshold", "a": 0.995, "b": 0.99},
        {"path": "hard_rules.reportable_amount", "a": "review", "b": "block"},
        {"path": "segments.retail.review_threshold", "a": None, "b": 0.2},
        {"path": "version", "a": "policy-1", "b": "policy-2"},
    ]
    assert diff_policies(a, a) == []


def test_to_policy_maps_version_weights_thresholds_and_high_value():
    policy = to_policy(load_policy_file(SHIPPED))
    assert isinstance(policy, Policy)
    assert policy.version == "policy-1"
    assert (policy.review_threshold, policy.block_threshold, policy.high_value_usd) == (0.12, 0.995, 10000)
    assert policy.weights == {"fraud": 1.0, "compliance": 0.1, "behaviour": 0.05, "credit": 0.05}


def test_cli_validate_prints_ok_and_the_version():
    result = runner.invoke(policy_app, ["validate", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "version": "policy-1"}


def test_cli_validate_exits_1_naming_the_field(tmp_path):
    path = write(tmp_path, "bad.yaml", {**shipped_data(), "review_threshold": 0.999})
    result = runner.invoke(policy_app, ["validate", str(path)])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["ok"] is False
    assert [e["field"] for e in out["errors"]] == ["review_threshold"]


def test_cli_validate_exits_1_for_a_missing_file(tmp_path):
    result = runner.invoke(policy_app, ["validate", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_cli_diff_json_lists_the_changes(tmp_path):
    b = write(tmp_path, "b.yaml", {**shipped_data(), "version": "policy-2", "weights": {"fraud": 0.9}})
    result = runner.invoke(policy_app, ["diff", str(SHIPPED), str(b), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"path": "version", "a": "policy-1", "b": "policy-2"},
        {"path": "weights.behaviour", "a": 0.05, "b": None},
        {"path": "weights.compliance", "a": 0.1, "b": None},
        {"path": "weights.credit", "a": 0.05, "b": None},
        {"path": "weights.fraud", "a": 1.0, "b": 0.9},
    ]


def test_cli_diff_prints_a_table(tmp_path):
    b = write(tmp_path, "b.yaml", {**shipped_data(), "version": "policy-2"})
    result = runner.invoke(policy_app, ["diff", str(SHIPPED), str(b)])
    assert result.exit_code == 0, result.output
    assert "version" in result.output and "policy-2" in result.output
