"""A review-bound assessment as a Task: input-required while with an analyst, completed by the outcome."""

from __future__ import annotations

import json

from gateway_doubles import (
    READER_TOKEN,
    bearer,
    eventually,
    message,
    outcome,
    poll_task,
    rpc,
    running_gateway,
    send,
    tx,
    webhook,
)

AWAIT_REVIEW = {"riskmesh": {"await_review": True}}


async def test_a_review_task_goes_input_required_then_completes_with_the_final_decision_and_pushes(gateway):
    async with webhook() as hook:
        config = {"taskPushNotificationConfig": {"url": hook.url, "token": "caller-secret"}}
        result = await send(gateway, tx("T-1", "20000"), configuration=config)
        task = result["task"]
        assert task["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
        assert "AL-T-1" in task["status"]["message"]["parts"][0]["text"]
        assert task["artifacts"][0]["parts"][0]["data"]["decision"] == "review"

        await gateway.router.handle(outcome("T-1", "release"))

        done = await poll_task(gateway, task["id"], "TASK_STATE_COMPLETED")
        final = done["artifacts"][-1]
        assert final["artifactId"] == "final-decision"
        assert final["parts"][0]["data"]["final_decision"] == "pass"
        await eventually(lambda: any(b.get("statusUpdate", {}).get("status", {}).get("state") == "TASK_STATE_COMPLETED"
                                     for b, _ in hook.received))
        assert {h["x-a2a-notification-token"] for _, h in hook.received} == {"caller-secret"}


async def test_a_pass_in_task_mode_completes_at_once(gateway):
    result = await send(gateway, tx("T-2"), configuration={"returnImmediately": True})
    done = await poll_task(gateway, result["task"]["id"], "TASK_STATE_COMPLETED")
    assert done["artifacts"][0]["parts"][0]["data"]["decision"] == "pass"


async def test_streaming_follows_the_task_to_input_required_and_on_to_completed(gateway):
    params = {"message": message(tx("T-3", "20000"), metadata=AWAIT_REVIEW)}
    states: list[str] = []
    async with gateway.http.stream("POST", "/", json=rpc("SendStreamingMessage", params),
                                   headers={**bearer(), "Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])["result"]
            state = (event.get("statusUpdate") or event.get("task") or {}).get("status", {}).get("state")
            if state:
                states.append(state)
            if state == "TASK_STATE_INPUT_REQUIRED":
                await gateway.router.handle(outcome("T-3"))
            if state == "TASK_STATE_COMPLETED":
                break
    assert states[-2:] == ["TASK_STATE_INPUT_REQUIRED", "TASK_STATE_COMPLETED"]


async def test_cancel_stops_following_and_leaves_the_alert_with_the_analyst(gateway):
    result = await send(gateway, tx("T-4", "20000"), metadata=AWAIT_REVIEW)
    task_id = result["task"]["id"]
    reply = await gateway.http.post(f"/tasks/{task_id}:cancel", json={}, headers=bearer())
    assert reply.status_code == 200, reply.text
    canceled = await poll_task(gateway, task_id, "TASK_STATE_CANCELED")
    assert "stays with the analyst" in json.dumps(canceled)
    assert await gateway.ledger.watchers("AL-T-4") == {}
    await gateway.router.handle(outcome("T-4"))  # the analyst decides later: the task stays canceled
    assert (await poll_task(gateway, task_id, "TASK_STATE_CANCELED"))["status"]["state"] == "TASK_STATE_CANCELED"


async def test_an_outcome_with_no_executor_waiting_completes_the_stored_task_and_pushes():
    async with running_gateway(review_wait_s=0.05) as gw, webhook() as hook:
        config = {"taskPushNotificationConfig": {"url": hook.url, "token": "t-5"}}
        task_id = (await send(gw, tx("T-5", "20000"), configuration=config))["task"]["id"]
        await eventually(lambda: not gw.router._waiters)  # the executor gave up waiting: still input-required
        await gw.router.handle(outcome("T-5"))
        done = await poll_task(gw, task_id, "TASK_STATE_COMPLETED")
        assert done["artifacts"][-1]["parts"][0]["data"]["final_decision"] == "block"
        assert gw.router.completed_from_store == 1
        await eventually(lambda: any(b.get("task", {}).get("status", {}).get("state") == "TASK_STATE_COMPLETED"
                                     for b, _ in hook.received))


async def test_an_outcome_known_before_the_task_completes_it_at_once(gateway):
    await gateway.ledger.record_outcome(outcome("T-6", "freeze"))
    result = await send(gateway, tx("T-6", "20000"), metadata=AWAIT_REVIEW)
    task_id = result["task"]["id"]
    done = await poll_task(gateway, task_id, "TASK_STATE_COMPLETED")
    assert done["artifacts"][-1]["parts"][0]["data"]["disposition"] == "freeze"


async def test_another_client_cannot_read_the_task_and_follow_ups_are_refused(gateway):
    task_id = (await send(gateway, tx("T-7", "20000"), metadata=AWAIT_REVIEW))["task"]["id"]
    other = await gateway.http.get(f"/tasks/{task_id}", headers=bearer(READER_TOKEN))
    assert other.status_code == 403
    follow_up = message({"tx_id": "T-7"})
    follow_up["taskId"] = task_id
    reply = await gateway.http.post("/", json=rpc("SendMessage", {"message": follow_up}), headers=bearer())
    assert reply.json()["error"]["code"] == -32004


async def test_tasks_expire_from_the_store():
    async with running_gateway(task_ttl_s=0.2) as gw:
        result = await send(gw, tx("T-8"), configuration={"returnImmediately": True})
        await poll_task(gw, result["task"]["id"], "TASK_STATE_COMPLETED")
        await eventually(lambda: len(gw.task_store) == 0)
        reply = await gw.http.post("/", json=rpc("GetTask", {"id": result["task"]["id"]}), headers=bearer())
        assert reply.json()["error"]["code"] == -32001
