"""The one progress protocol every long stage reports through, and the result every stage returns."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol


class Progress(Protocol):
    """``progress(task, advance, total)``: ``advance`` more items of ``task`` are done out of ``total`` (None when
    unknown). The CLI drives a bar per task and CATALOG.run.json from it."""

    def __call__(self, task: str, advance: int, total: int | None) -> None: ...


def no_progress(task: str, advance: int, total: int | None) -> None:
    """The default: report nothing."""


@dataclass(frozen=True)
class StageResult(Mapping[str, Any]):
    """What a stage did, as typed fields; reads like the summary dict the CLI prints (``result["converted"]``)."""

    def summary(self) -> dict[str, Any]:
        """The fields as the CLI's summary table shows them (``extra`` flattened in, empty optional ones dropped)."""
        values = asdict(self)
        extra = values.pop("extra", None) or {}
        return {k: v for k, v in {**values, **extra}.items() if v is not None}

    def __getitem__(self, key: str) -> Any:
        return self.summary()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.summary())

    def __len__(self) -> int:
        return len(self.summary())
