"""Training in several processes started by ``torchrun`` (or ``accelerate launch``).

Both training loops use these: the neural one (its own loop, with
:class:`torch.nn.parallel.DistributedDataParallel`) and the seq2seq one
(the Hugging Face ``Trainer``, which opens the process group itself). In one
process every function here is a no-op, so the loops need no second path.

The first process (rank 0) is the one that scores dev, writes checkpoints
and the model, and reports; the others wait for it. A decision taken on a
process's own clock or scores (stop: out of time; stop: no progress on dev;
checkpoint now) is the first process's, broadcast, so that every process
takes it at the same step: a process that stops alone leaves the others
waiting forever in their next gradient exchange.
"""

from __future__ import annotations

import datetime
import os
from typing import TypeVar

import torch

T = TypeVar("T")

#: How long a process waits for the others at a collective before giving up.
#: The first process scores dev, calibrates and saves while the others wait
#: at a barrier; on a CPU that can take tens of minutes (torch's default is 30).
WAIT_LIMIT = datetime.timedelta(hours=3)


def world_size() -> int:
    """Processes started together by torchrun or accelerate launch (1 otherwise)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's number among them (0: the first, which writes and reports)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    return rank() == 0


def is_distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def start(on_gpu: bool = False) -> bool:
    """Open the process group when started by torchrun and it is not open yet
    (gloo for training on the CPU, NCCL on GPUs); whether training is distributed."""
    if world_size() > 1 and not is_distributed():
        if on_gpu:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch.distributed.init_process_group("nccl" if on_gpu else "gloo", timeout=WAIT_LIMIT)
    return is_distributed()


def agree(decision: bool) -> bool:
    """The first process's decision, in every process."""
    if not is_distributed():
        return decision
    flag = torch.tensor([1 if decision else 0], dtype=torch.int64)
    if torch.distributed.get_backend() == "nccl":
        flag = flag.cuda()
    torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


def first_process_value(value: T) -> T:
    """The first process's ``value`` (anything picklable), in every process."""
    if not is_distributed():
        return value
    shared = [value]
    torch.distributed.broadcast_object_list(shared, src=0)
    return shared[0]


def wait_for_every_process() -> None:
    if is_distributed():
        torch.distributed.barrier()


def share_of(items: list[T]) -> list[T]:
    """This process's share of ``items``: every ``world_size()``-th one from
    its rank on, the list first padded with its own first items to a
    multiple of the processes, so that every process takes as many steps."""
    processes = world_size() if is_distributed() else 1
    if processes == 1 or not items:
        return items
    padded = [items[index % len(items)] for index in range(-(-len(items) // processes) * processes)]
    return padded[rank()::processes]


def end_distributed_run() -> None:
    """Close the process group training opened. A process that exits with it
    still open can abort in gloo's teardown ("terminate called without an
    active exception") while another is still saving; call this once, at the
    end of a program that trained under torchrun."""
    if is_distributed():
        wait_for_every_process()
        torch.distributed.destroy_process_group()
