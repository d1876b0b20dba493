"""Where a Question 2 run trains, and the random generators of that device."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then CPU; an explicit device must exist."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown device {name!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {name!r} was requested but this torch sees no CUDA device "
                               f"(torch {torch.__version__}); use device 'auto' or 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(f"device {name!r} was requested but only "
                               f"{torch.cuda.device_count()} CUDA device(s) exist")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise RuntimeError(f"device {name!r} was requested but Apple MPS is not available; "
                               f"use device 'auto' or 'cpu'")
    elif device.type != "cpu":
        raise ValueError(f"unsupported device {name!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    return device


def rng_states(device: torch.device) -> dict:
    """torch's global generators that a run draws from (dropout): the CPU's and the device's."""
    states = {"torch_cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["torch_cuda"] = torch.cuda.get_rng_state(device)
    elif device.type == "mps":
        states["torch_mps"] = torch.mps.get_rng_state()
    return states


def restore_rng_states(states: dict, device: torch.device) -> None:
    torch.set_rng_state(states["torch_cpu"])
    if device.type == "cuda" and "torch_cuda" in states:
        torch.cuda.set_rng_state(states["torch_cuda"], device)
    elif device.type == "mps" and "torch_mps" in states:
        torch.mps.set_rng_state(states["torch_mps"])


def device_unusable(device: torch.device) -> str | None:
    """Why the device cannot go on after a failed CUDA graph capture (None if it can): a stream
    left capturing, or an error the device reports when asked to finish its work."""
    if device.type != "cuda":
        return None
    try:
        if torch.cuda.is_current_stream_capturing():
            return "its stream is still capturing a graph"
        torch.cuda.synchronize(device)
    except RuntimeError as err:
        return f"it reports {err}"
    return None
