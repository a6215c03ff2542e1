"""What risk-actions actually did per transaction, read from its action log (one entry per action taken)."""

from __future__ import annotations

import json

import redis

from riskmesh.mcp_servers.action_store import ACTION_LOG_KEY


def actions_taken(client: redis.Redis, tx_ids: list[str]) -> dict[str, list[str]]:
    pipe = client.pipeline(transaction=False)
    for tx_id in tx_ids:
        pipe.lrange(ACTION_LOG_KEY.format(tx_id), 0, -1)
    replies = pipe.execute()
    return {tx_id: [json.loads(e)["action"] for e in entries] for tx_id, entries in zip(tx_ids, replies, strict=True)}
