"""The console's HTTP API over a fake desk: sessions, CSRF, roles, tokens, the four-eyes flow, SSE."""

from __future__ import annotations

from starlette.testclient import TestClient

PASSWORD = "correct horse battery"


def test_signing_in_sets_an_httponly_strict_cookie_and_me_names_the_user_and_role(console) -> None:
    client = TestClient(console)
    response = client.post("/api/login", json={"username": "ana", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "rm_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/me").json()
    assert me["user"]["username"] == "ana" and me["user"]["role"] == "analyst"
    assert "alert.decide" in me["user"]["permissions"]
    assert me["csrf_token"] == response.json()["csrf_token"]


def test_a_wrong_password_is_401_and_repeated_failures_are_throttled(console) -> None:
    client = TestClient(console)
    for _ in range(3):
        response = client.post("/api/login", json={"username": "ana", "password": "wrong password!"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    throttled = client.post("/api/login", json={"username": "ana", "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "too_many_attempts"


def test_login_only_accepts_json_so_a_cross_site_form_cannot_sign_anyone_in(console) -> None:
    response = TestClient(console).post("/api/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 422


def test_the_api_needs_a_session_and_logout_ends_it(console, sign_in) -> None:
    anonymous = TestClient(console)
    assert anonymous.get("/api/queue").status_code == 401
    assert anonymous.get("/api/queue").json()["error"]["code"] == "unauthenticated"
    client = sign_in("ana")
    assert client.get("/api/queue").status_code == 200
    assert client.post("/api/logout").status_code == 200
    assert client.get("/api/queue").status_code == 401


def test_a_cookie_authenticated_write_without_the_csrf_header_is_refused(console, sign_in) -> None:
    client = sign_in("ana")
    del client.headers["x-csrf-token"]
    response = client.post("/api/alerts/AL-1/claim")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    client.headers["x-csrf-token"] = "forged"
    assert client.post("/api/alerts/AL-1/claim").status_code == 403


def test_the_queue_lists_alerts_in_priority_order_with_counts_and_server_time(sign_in) -> None:
    body = sign_in("ana").get("/api/queue?sort=priority").json()
    assert [i["alert"]["alert_id"] for i in body["items"]] == ["AL-1", "AL-2"]
    assert body["counts"] == {"open": 2}
    assert body["now"].endswith("Z")
    assert "sla_due_at" in body["items"][0]["state"]


def test_bad_queue_parameters_are_a_json_422(sign_in) -> None:
    response = sign_in("ana").get("/api/queue?sort=random")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_an_analyst_claims_and_blocks_and_a_second_analyst_approves_the_four_eyes_item(sign_in, desk) -> None:
    ana, ben = sign_in("ana"), sign_in("ben")
    assert ana.post("/api/alerts/AL-1/claim").json()["state"]["assignee"] == "ana"
    proposed = ana.post("/api/alerts/AL-1/decide", json={"disposition": "block", "reason": "mule pattern"})
    assert proposed.status_code == 200
    assert proposed.json()["state"]["status"] == "pending_approval"

    own = ana.post("/api/alerts/AL-1/approve")
    assert own.status_code == 403
    assert "four-eyes" in own.json()["error"]["message"]

    approved = ben.post("/api/alerts/AL-1/approve").json()["state"]
    assert approved["status"] == "closed" and approved["disposition"] == "block"
    assert approved["approved_by"] == "ben" and approved["decided_by"] == "ana"
    actions = [e["action"] for e in ben.get("/api/audit?subject=alert:AL-1").json()["events"]]
    assert actions == ["alert.approved", "alert.proposed", "alert.claimed"]


def test_the_detail_shows_what_the_caller_may_do_next(sign_in) -> None:
    ana = sign_in("ana")
    assert ana.get("/api/alerts/AL-2").json()["can"]["claim"] is True
    ana.post("/api/alerts/AL-2/claim")
    can = ana.get("/api/alerts/AL-2").json()["can"]
    assert can["decide"] and can["release"] and not can["approve"]
    assert sign_in("sol").get("/api/alerts/AL-2").json()["can"] == {
        "claim": False, "release": False, "decide": False, "approve": False, "reassign": False, "note": False,
    }


def test_an_unknown_alert_is_a_json_404(sign_in) -> None:
    response = sign_in("ana").get("/api/alerts/NOPE")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no alert NOPE"}}


def test_a_soc_engineer_reads_the_queue_but_cannot_claim_or_decide(sign_in) -> None:
    sol = sign_in("sol")
    assert sol.get("/api/queue").status_code == 200
    assert sol.get("/api/alerts/AL-1").status_code == 200
    assert sol.post("/api/alerts/AL-1/claim").status_code == 403
    refused = sol.post("/api/alerts/AL-1/decide", json={"disposition": "release", "reason": "fine"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


def test_only_an_admin_may_change_the_policy(sign_in, policy_calls) -> None:
    assert sign_in("ana").put("/api/policy", content="version: x", headers={"content-type": "text/yaml"}
                              ).status_code == 403
    assert sign_in("sam").put("/api/policy", content="version: x", headers={"content-type": "text/yaml"}
                              ).status_code == 403
    response = sign_in("adam").put("/api/policy", content="version: x", headers={"content-type": "text/yaml"})
    assert response.status_code == 200
    assert response.json() == {"result": {"version": "p2"}}
    assert policy_calls == [("version: x", "adam")]


def test_only_a_supervisor_may_reassign_and_only_to_someone_who_works_alerts(sign_in) -> None:
    assert sign_in("ana").post("/api/alerts/AL-2/reassign", json={"to": "ben"}).status_code == 403
    sam = sign_in("sam")
    assert sam.post("/api/alerts/AL-2/reassign", json={"to": "sol"}).status_code == 422
    assert sam.post("/api/alerts/AL-2/reassign", json={"to": "ben"}).json()["state"]["assignee"] == "ben"
    assert sign_in("ana").get("/api/queue?status=escalated").status_code == 403


def test_an_admin_issues_a_machine_token_that_authenticates_without_a_cookie_or_csrf(console, sign_in) -> None:
    adam = sign_in("adam")
    assert adam.post("/api/users", json={"username": "gateway", "role": "soc_engineer", "machine": True}
                     ).status_code == 201
    token = adam.post("/api/tokens", json={"username": "gateway", "label": "ci"}).json()["token"]
    assert token.startswith("rmk_")
    machine = TestClient(console, headers={"authorization": f"Bearer {token}"})
    assert machine.get("/api/me").json()["user"]["username"] == "gateway"
    assert machine.get("/api/queue").status_code == 200
    assert machine.post("/api/alerts/AL-1/claim").status_code == 403  # authenticated, but a read-only role
    bad = TestClient(console, headers={"authorization": "Bearer rmk_not-a-token"})
    assert bad.get("/api/queue").status_code == 401
    assert sign_in("ana").post("/api/tokens", json={"username": "ana"}).status_code == 403


def test_evidence_is_masked_for_an_analyst_and_complete_for_a_compliance_officer(sign_in) -> None:
    assert sign_in("ana").get("/api/alerts/AL-1").json()["evidence"]["customer"]["name"] == "***"
    assert sign_in("cora").get("/api/alerts/AL-1").json()["evidence"]["customer"]["name"] == "Li Wei"


def test_sign_ins_and_failed_sign_ins_are_audited(console, desk) -> None:
    client = TestClient(console)
    client.post("/api/login", json={"username": "ana", "password": "nope nope nope"})
    client.post("/api/login", json={"username": "ana", "password": PASSWORD})
    actions = [(e.actor, e.action) for e in desk.log.events()]
    assert actions == [("console", "login.failed"), ("ana", "login")]


def test_the_event_stream_sends_the_queue_state_and_again_when_it_changes(sign_in, desk, new_alert) -> None:
    client = sign_in("ana")
    with client.stream("GET", "/api/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    assert body.startswith("retry: 1000")
    assert body.count("event: queue") == 1
    assert '"size": 2' in body

    desk.add(new_alert("AL-3", 0.99))
    with client.stream("GET", "/api/events") as response:
        assert '"size": 3' in "".join(response.iter_text())


def test_the_dashboard_adds_queue_depth_and_sla_breaches_to_the_pipeline_figures(sign_in) -> None:
    body = sign_in("sol").get("/api/dashboard").json()
    assert body["queue"]["depth"] == 2
    assert body["queue"]["sla_breached"] == 0
    assert set(body) >= {"pipeline", "rates", "agents", "queue", "now"}


def test_the_page_and_its_assets_are_served_locally_under_a_strict_csp(console) -> None:
    client = TestClient(console)
    page = client.get("/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/app.js"' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/healthz").json() == {"ok": True}
    assert client.get("/api/nothing-here").json()["error"]["code"] == "not_found"
