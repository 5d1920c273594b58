"""Scripted faults for the mock providers: raise, hang or rate-limit on chosen calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.errors import ProviderError, RateLimited


@dataclass(frozen=True)
class FaultPlan:
    kind: str = "none"  # none | raise | hang | rate_limit
    on_calls: frozenset[int] = frozenset()  # 1-based call numbers; empty means every call

    @classmethod
    def parse(cls, kind: str, on_calls: str) -> FaultPlan:
        numbers = frozenset(int(part) for part in on_calls.replace(" ", "").split(",") if part)
        return cls(kind, numbers)

    def applies(self, call_number: int) -> bool:
        return self.kind != "none" and (not self.on_calls or call_number in self.on_calls)

    async def strike(self, stage: str, call_number: int) -> None:
        """Act out the fault for this call, if it has one."""
        if not self.applies(call_number):
            return
        if self.kind == "raise":
            raise ProviderError(stage, f"mock {stage} failure (call {call_number})")
        if self.kind == "rate_limit":
            raise RateLimited(stage, f"mock {stage} rate limit (call {call_number})", retry_after_s=1.0)
        if self.kind == "hang":
            await asyncio.Event().wait()  # until the caller's timeout cancels us
