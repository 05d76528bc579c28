"""The one copy of θ₀ that exact (bitwise) restore needs, and where it lives.

`Theta0(model)` keeps it in host RAM in each parameter's own dtype (bytes = model parameter bytes);
`Theta0(model, snapshot=path)` keeps none in RAM: it writes (or verifies) a safetensors snapshot and
re-reads one tensor per parameter on restore. Nothing else of parameter size is held.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from landscape.hashing import canonical_name
from landscape.tensorfile import TensorSource, write_safetensors
from theory.errors import UserInputError


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    a, b = a.detach().to("cpu").contiguous(), b.detach().to("cpu").contiguous()
    return torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))


PARALLEL_RESTORE_MIN = 1 << 22  # coordinates: below this a thread pool costs more than it saves (≈ 1.5 ms)


class Theta0:
    """A bitwise copy of the parameters (all, or the canonical `names` given) for exact restore."""

    def __init__(self, model: torch.nn.Module, names: Iterable[str] | None = None,
                 snapshot: str | Path | None = None):
        wanted = None if names is None else {canonical_name(n) for n in names}
        self.params = [(canonical_name(n), p) for n, p in model.named_parameters()
                       if wanted is None or canonical_name(n) in wanted]
        self.where = "host RAM (parameter dtype)" if snapshot is None else f"safetensors snapshot {snapshot}"
        self._ram: dict[str, torch.Tensor] = {}
        self._disk: TensorSource | None = None
        if snapshot is None:
            for name, p in self.params:
                self._ram[name] = p.detach().to("cpu", copy=True)
            return
        path = Path(snapshot)
        if not path.exists():
            write_safetensors(path, [(n, p.detach()) for n, p in self.params])
        self._disk = TensorSource(path)
        for name, p in self.params:
            if name not in self._disk or not same_bits(self._disk.get(name), p):
                raise UserInputError(f"snapshot {path} does not hold the current value of {name!r}")

    @property
    def nbytes_in_ram(self) -> int:
        return sum(t.numel() * t.element_size() for t in self._ram.values())

    def covers(self, names: Iterable[str]) -> bool:
        have = {n for n, _ in self.params}
        return all(n in have for n in names)

    def get(self, name: str) -> torch.Tensor:
        """θ₀ of one parameter (host tensor in its dtype)."""
        return self._ram[name] if self._disk is None else self._disk.get(name)

    @torch.no_grad()
    def restore(self, params: Iterable[tuple[str, torch.Tensor]] | None = None, workers: int = 1) -> None:
        """Copy θ₀ back into `params` (default: all it holds), bitwise; `workers` > 1 copies that many
        tensors at a time (host RAM copies of at least PARALLEL_RESTORE_MIN coordinates in all). A
        KeyboardInterrupt arriving during the restore is held back until every tensor is restored, then
        re-raised."""
        todo = list(self.params if params is None else params)
        pending: BaseException | None = None
        parallel = (workers > 1 and self._disk is None and len(todo) > 1
                    and sum(p.numel() for _, p in todo) >= PARALLEL_RESTORE_MIN)

        def copy(item: tuple[str, torch.Tensor]) -> None:
            with torch.no_grad():  # grad mode is per thread
                item[1].copy_(self.get(item[0]))

        while True:
            try:
                if parallel:
                    pool = ThreadPoolExecutor(max_workers=workers)
                    try:
                        list(pool.map(copy, todo))
                    finally:  # every copy has finished before the restore returns or retries
                        pool.shutdown(wait=True)
                else:
                    for item in todo:
                        copy(item)
                break
            except KeyboardInterrupt as exc:
                pending = exc
        if pending is not None:
            raise pending
