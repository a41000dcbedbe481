"""Process-group plumbing for training under torchrun: rank, world size, collectives, device.

With ``WORLD_SIZE`` > 1 in the environment (torchrun sets it, with RANK, LOCAL_RANK, MASTER_ADDR
and MASTER_PORT) `Distributed.from_env` joins the process group: NCCL on CUDA, gloo on CPU.
A single process gets world size 1 and every collective is the identity.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch

from musicgen.errors import TrainingError
from musicgen.train.config import resolve_device

__all__ = ["Distributed"]


@dataclass
class Distributed:
    """This process's place in the run."""

    rank: int
    world: int
    device: torch.device

    @classmethod
    def from_env(cls, device_name: str) -> Distributed:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
        device = resolve_device(device_name, local)
        if world <= 1:
            return cls(0, 1, device)
        import torch.distributed as dist

        if not dist.is_initialized():
            backend = "nccl" if device.type == "cuda" else "gloo"
            if device.type == "cuda":
                torch.cuda.set_device(device)
            try:
                dist.init_process_group(backend=backend, rank=rank, world_size=world)
            except (RuntimeError, ValueError) as exc:
                raise TrainingError(f"Cannot join the {backend} process group: {exc}") from exc
            # Kept for the life of the process: a second train() in the same torchrun worker
            # would hang re-joining torchrun's store after a destroy.
            atexit.register(dist.destroy_process_group)
        return cls(dist.get_rank(), dist.get_world_size(), device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """The sum of ``value`` over all ranks (a copy; float64 on CPU for exact logging)."""
        out = value.detach().to(torch.float64 if self.device.type == "cpu" else torch.float32)
        if self.world > 1:
            import torch.distributed as dist

            out = out.clone()
            dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out

    def any(self, *flags: bool) -> list[bool]:
        """Each flag OR-ed over all ranks (stop requests, budget checks) in one collective."""
        if self.world == 1:
            return list(flags)
        import torch.distributed as dist

        t = torch.tensor([1.0 if f else 0.0 for f in flags], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [bool(v) for v in t.tolist()]

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()
