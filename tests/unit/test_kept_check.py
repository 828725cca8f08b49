"""The System page's checks of outside services: asked once a minute at most, a slow one included."""

import asyncio

from app.adapters import kept_check
from app.adapters.kept_check import KeptCheck


def test_a_slow_service_is_kept_as_slow_and_its_answer_keeps_its_latency(monkeypatch):
    """A check cut off by its time limit kept nothing, so each look asked the slow service again."""
    monkeypatch.setattr(kept_check, "ANSWER_SECONDS", 0.05)
    asked: list[str] = []

    async def slow() -> str:
        asked.append("slow")
        await asyncio.sleep(1)
        return "never"

    async def quick() -> str:
        asked.append("quick")
        await asyncio.sleep(0.02)
        return "fine"

    async def looks() -> None:
        slow_check, quick_check = KeptCheck(slow), KeptCheck(quick)
        first = [await slow_check() for _ in range(3)]
        assert asked == ["slow"] and all(not a.ok and a.detail == "no answer within 0.05 s" for a in first)
        answers = [await quick_check() for _ in range(3)]
        assert asked == ["slow", "quick"] and {a.detail for a in answers} == {"fine"}
        assert all(a.latency_ms >= 20 for a in answers)  # the kept call's time, not the look's

    asyncio.run(looks())
