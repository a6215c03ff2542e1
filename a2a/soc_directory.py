"""Specialist discovery for the soc-investigator: a registry of agent-card URLs, selection by skill tags.

`CardDirectory` fetches each configured card (A2ACardResolver, concurrently), keeps it for `ttl_s`, and
offers as specialists the agents with a skill carrying every tag of `tags` (default "soc" and
"investigation"). An unreachable card is skipped (and retried on the next call), never fatal: the
investigation goes on with the others. Each specialist keeps one long-lived streaming client
(`TaskStreamClient`), rebuilt when its card changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import httpx
from a2a.client import A2ACardResolver
from a2a.types import AgentCard
from pydantic import ValidationError

from riskmesh.a2a.soc_client import TaskStreamClient, raw_part
from riskmesh.agents.soc.investigator import SpecialistEvent, SpecialistStatus
from riskmesh.contracts.investigation import (
    FINDINGS_MEDIA_TYPE,
    INVESTIGATION_REQUEST_MEDIA_TYPE,
    FindingBatch,
    InvestigationRequest,
)

__all__ = ["DEFAULT_TAGS", "A2ASpecialist", "CardDirectory", "SpecialistFailed", "parse_card_urls"]

logger = logging.getLogger(__name__)

DEFAULT_TAGS = ("soc", "investigation")
_JSON_TYPES = frozenset({FINDINGS_MEDIA_TYPE, "application/json", ""})


class SpecialistFailed(RuntimeError):
    """The specialist's task failed, was rejected or canceled, or asked for input it cannot get."""


def parse_card_urls(value: str | Sequence[str]) -> list[str]:
    """`soc_agent_cards` (comma-separated) ▶ base URLs; a URL ending in the well-known card path is trimmed."""
    items = value.split(",") if isinstance(value, str) else list(value)
    urls = []
    for item in items:
        url = item.strip()
        if url:
            url = url.split("/.well-known/", 1)[0]
            urls.append(url if url.endswith("/") else url + "/")
    return list(dict.fromkeys(urls))


def selected(card: AgentCard, tags: Sequence[str]) -> bool:
    return any(set(tags) <= set(skill.tags) for skill in card.skills)


class A2ASpecialist:
    """One specialist agent over a streaming A2A task: request in, FindingBatch artifacts out."""

    def __init__(self, name: str, client: TaskStreamClient) -> None:
        self.name = name
        self.client = client

    async def investigate(self, request: InvestigationRequest) -> AsyncIterator[SpecialistEvent]:
        part = raw_part(request.model_dump_json().encode("utf-8"), INVESTIGATION_REQUEST_MEDIA_TYPE)
        async for event in self.client.stream([part]):
            for chunk in event.artifacts:
                if chunk.media_type not in _JSON_TYPES:
                    continue
                try:
                    yield FindingBatch.model_validate_json(chunk.body)
                except ValidationError as exc:
                    if chunk.media_type == FINDINGS_MEDIA_TYPE:
                        logger.warning("%s sent a findings artifact that breaks the contract: %s", self.name, exc)
            if event.state == "completed":
                yield SpecialistStatus("completed", event.text or "done")
                return
            if event.ended:
                raise SpecialistFailed(f"task {event.state}" + (f": {event.text}" if event.text else ""))
            if event.text:
                yield SpecialistStatus("working", event.text)
        raise SpecialistFailed("the stream ended before the task did")


@dataclass
class _Entry:
    card: AgentCard
    fetched: float
    specialist: A2ASpecialist


class CardDirectory:
    """The configured card registry; `specialists()` is cheap while the cached cards are fresh."""

    def __init__(
        self,
        card_urls: Sequence[str],
        token: str,
        *,
        tags: Sequence[str] = DEFAULT_TAGS,
        ttl_s: float = 60.0,
        fetch_timeout_s: float = 2.0,
        exclude: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.card_urls = parse_card_urls(card_urls)
        self.tags = tuple(tags)
        self.ttl_s = ttl_s
        self.fetch_timeout_s = fetch_timeout_s
        self.exclude = frozenset(exclude)
        """Card names never selected (the investigator's own card, should it carry the tags)."""
        self._token = token
        self._clock = clock
        self._http = httpx.AsyncClient(headers={"authorization": f"Bearer {token}"},
                                       timeout=httpx.Timeout(10.0, read=30.0))
        self._entries: dict[str, _Entry] = {}
        self._lock = asyncio.Lock()

    async def specialists(self) -> list[A2ASpecialist]:
        async with self._lock:
            now = self._clock()
            stale = [u for u in self.card_urls if u not in self._entries or now - self._entries[u].fetched > self.ttl_s]
            if stale:
                cards = await asyncio.gather(*(self._fetch(u) for u in stale))
                for url, card in zip(stale, cards, strict=True):
                    if card is not None:
                        await self._keep(url, card, now)
            entries = [self._entries[u] for u in self.card_urls if u in self._entries]
        return [e.specialist for e in entries if selected(e.card, self.tags) and e.card.name not in self.exclude]

    async def _fetch(self, url: str) -> AgentCard | None:
        try:
            async with asyncio.timeout(self.fetch_timeout_s):
                return await A2ACardResolver(self._http, url).get_agent_card()
        except Exception as exc:  # one bad registry entry must not stop discovery: skipped, logged, retried
            logger.warning("agent card at %s unavailable: %s", url, exc)
            return None

    async def _keep(self, url: str, card: AgentCard, now: float) -> None:
        old = self._entries.get(url)
        if old is not None and old.card == card:
            self._entries[url] = _Entry(card, now, old.specialist)
            return
        if old is not None:
            await old.specialist.client.aclose()
        client = TaskStreamClient(url, self._token, card=card, http=self._http)
        self._entries[url] = _Entry(card, now, A2ASpecialist(card.name, client))

    async def aclose(self) -> None:
        for entry in self._entries.values():
            await entry.specialist.client.aclose()
        self._entries.clear()
        await self._http.aclose()
