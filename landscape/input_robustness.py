"""Robustness to token substitutions: two certificates, labelled, plus substitution distances.

RIGOROUS — noise on the input embeddings: η ~ N(0, σ_emb² I) added independently to every entry of the
input-embedding output (each position of each example). Per example x, p_A(x) = P_η[O(f(E(x) + η)) = 1]
with a one-sided Clopper–Pearson lower bound; certified radius r(x) = σ_emb(Φ⁻¹(p_lower(x)) − Φ⁻¹(q)) in
the ℓ₂ norm of the (positions × hidden) embedding sequence: any substitution x → x′ with
‖E(x) − E(x′)‖₂ ≤ r(x) (theory.bounds.embedding_noise_distance; repeats counted) keeps the smoothed
score ≥ q. Per-example confidence (not simultaneous over examples). The noise is drawn per forward
call, so a decoding score must embed each position once (KV cache) for η to be fixed per example.

HEURISTIC — "Thm 4.5 as stated (heuristic; invalid for repeated tokens and tied embeddings)": the
parameter-space certificate with √(Σ ‖W e_i − W e_i′‖²) over distinct substitution pairs in place of
‖Δθ‖. The result lists the caveats that apply to the given input (repeated substituted token, tied
input/output embeddings).

Embedding matrices are (vocab, hidden): rows are token embeddings (torch nn.Embedding.weight).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from landscape.certificates import Certificate
from landscape.context import ProbeContext
from landscape.evaluate import ProbeEvaluator, derive_seed
from landscape.progress import progress
from landscape.scores import Score
from landscape.smoothing import smoothed_estimate
from theory.bounds import (
    certified_lower_bound,
    certified_radius,
    embedding_noise_dataset_bound,
    embedding_noise_distance,
    substitution_distance_heuristic,
)
from theory.errors import UserInputError
from theory.estimate import Estimate

RIGOROUS_LABEL = "rigorous: input-embedding noise sigma_emb, per-example radius"
HEURISTIC_LABEL = "Thm 4.5 as stated (heuristic; invalid for repeated tokens and tied embeddings)"


@contextmanager
def embedding_noise(module: torch.nn.Module, sigma_emb: float, seed: int) -> Iterator[None]:
    """Add i.i.d. N(0, σ_emb²) to every entry of `module`'s output (float32 noise, one generator seeded
    once per context and advancing across forward calls). Parameters are not touched."""
    if not sigma_emb > 0:
        raise UserInputError(f"sigma_emb must be > 0, got {sigma_emb}")
    generators: dict[torch.device, torch.Generator] = {}

    def hook(_module, _inputs, out: torch.Tensor) -> torch.Tensor:
        gen = generators.get(out.device)
        if gen is None:
            gen = generators[out.device] = torch.Generator(device=out.device)
            gen.manual_seed(seed % (1 << 63))
        noise = torch.randn(out.shape, generator=gen, dtype=torch.float32, device=out.device)
        return (out.float() + sigma_emb * noise).to(out.dtype)

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@dataclass(frozen=True)
class ExampleCertificate:
    """One example: p_a (one-sided lower CP), radius in embedding-sequence ℓ₂ (0 when p_lower < q)."""

    example_id: int
    p_a: Estimate
    radius: float


@dataclass(frozen=True)
class InputCertificates:
    label: str
    score: str
    sigma_emb: float
    q: float
    examples: tuple[ExampleCertificate, ...]
    dataset_p_a: Estimate
    noise_seeds: tuple[int, ...]
    wall_time_s: float

    def dataset_bound(self, distances: Sequence[float]) -> float:
        """Smoothed dataset score after substitutions with per-example embedding distances r_x:
        ≥ Φ(Φ⁻¹(dataset p_lower) − max_x r_x / σ_emb) (theory.bounds.embedding_noise_dataset_bound)."""
        return float(embedding_noise_dataset_bound(self.dataset_p_a.lo, distances, self.sigma_emb))

    def for_example(self, example_id: int) -> ExampleCertificate:
        for c in self.examples:
            if c.example_id == example_id:
                return c
        raise UserInputError(f"example {example_id} was not certified")


def input_embedding_certificates(model: torch.nn.Module, score: Score, embedding: torch.nn.Module,
                                 sigma_emb: float, ctx: ProbeContext | None = None, *, n: int = 200,
                                 q: float | None = None, confidence: float = 0.99) -> InputCertificates:
    """RIGOROUS certificate: n noise draws (seeds from ctx.seed) on `embedding`'s output, every example of
    ctx scored under each draw."""
    start = time.perf_counter()
    ctx = ProbeContext() if ctx is None else ctx
    seed = ctx.seed
    floor = float(score.chance if q is None else q)
    if not 0 <= floor <= 1:
        raise UserInputError(f"q must lie in [0, 1] (default: the score's chance rate), got {floor}")
    if n < 1:
        raise UserInputError(f"n must be >= 1, got {n}")
    ev = ProbeEvaluator(model, score, ctx)
    ev.announce("input-embedding smoothing", n, 1)
    seeds = tuple(derive_seed(seed, "embedding-noise", j) for j in range(n))
    where = next((name for name, m in model.named_modules() if m is embedding), type(embedding).__name__)
    outcomes, values = [], []
    for s in progress(seeds, total=n, desc="input-embedding noise"):
        probe = ev.under({"kind": "input-embedding", "module": where, "seed": s}, sigma_emb,
                         lambda s=s: embedding_noise(embedding, sigma_emb, s))
        outcomes.append(probe.outcomes)
        values.append(probe.value)
    matrix = np.asarray(outcomes, dtype=np.float64)
    ids = ev.example_ids if ev.example_ids is not None else list(range(score.n_examples))
    certs = []
    for col, ex in enumerate(ids):
        p_a = smoothed_estimate(matrix[:, col], confidence, sided="lower",
                                rounding_seed=derive_seed(seed, "rounding", ex), unit="smoothed outcome")
        radius = float(certified_radius(p_a.lo, floor, sigma_emb)) if p_a.lo >= floor else 0.0
        certs.append(ExampleCertificate(example_id=int(ex), p_a=p_a, radius=radius))
    dataset = smoothed_estimate(values, confidence, sided="lower", rounding_seed=derive_seed(seed, "rounding"))
    return InputCertificates(label=RIGOROUS_LABEL, score=score.name, sigma_emb=float(sigma_emb), q=floor,
                             examples=tuple(certs), dataset_p_a=dataset, noise_seeds=seeds,
                             wall_time_s=time.perf_counter() - start)


@dataclass(frozen=True)
class SubstitutionBound:
    """Guaranteed smoothed score after substituting tokens → new_tokens; `caveats` name broken premises."""

    label: str
    distance: float
    bound: float
    p_lower: float
    sigma: float
    caveats: tuple[str, ...]


def _as_numpy(matrix: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(matrix, torch.Tensor):
        return matrix.detach().to("cpu", torch.float64).numpy()
    return np.asarray(matrix, dtype=np.float64)


def rigorous_substitution_bound(certificates: InputCertificates, example_id: int,
                                embedding_matrix: torch.Tensor | np.ndarray, tokens: Sequence[int],
                                new_tokens: Sequence[int]) -> SubstitutionBound:
    """Φ(Φ⁻¹(p_lower(x)) − ‖E(x) − E(x′)‖₂ / σ_emb) for the smoothed outcome of example x after x → x′."""
    cert = certificates.for_example(example_id)
    distance = embedding_noise_distance(_as_numpy(embedding_matrix), tokens, new_tokens)
    return SubstitutionBound(label=RIGOROUS_LABEL, distance=distance,
                             bound=float(certified_lower_bound(cert.p_a.lo, distance, certificates.sigma_emb)),
                             p_lower=cert.p_a.lo, sigma=certificates.sigma_emb, caveats=())


def heuristic_substitution_bound(certificate: Certificate, embedding_matrix: torch.Tensor | np.ndarray,
                                 tokens: Sequence[int], new_tokens: Sequence[int], *,
                                 tied_embeddings: bool = False) -> SubstitutionBound:
    """HEURISTIC Thm 4.5 as stated, from a parameter-space certificate; caveats listed, never hidden."""
    distance = substitution_distance_heuristic(_as_numpy(embedding_matrix), tokens, new_tokens)
    caveats = []
    counts = Counter(int(t) for t in tokens)
    if any(counts[int(a)] > 1 or counts[int(b)] > 0 for a, b in zip(tokens, new_tokens) if a != b):
        caveats.append("repeated token: a replaced token occurs twice, or a new token already occurs in x")
    if tied_embeddings:
        caveats.append("tied input/output embeddings: the parameter-move equivalence fails")
    return SubstitutionBound(label=HEURISTIC_LABEL, distance=distance,
                             bound=float(certificate.guaranteed_score(distance)), p_lower=certificate.p_lower,
                             sigma=certificate.sigma, caveats=tuple(caveats))


def token_distances(embedding_matrix: torch.Tensor, token_ids: Sequence[int]) -> torch.Tensor:
    """(len(token_ids), vocab) float64 matrix of ‖W_i − W_j‖₂: the cost of substituting token i by j."""
    W = embedding_matrix.detach()
    rows = W[torch.as_tensor(list(token_ids), dtype=torch.long, device=W.device)]
    return torch.cdist(rows.double(), W.double(), compute_mode="donot_use_mm_for_euclid_dist")


def pairs_within_radius(embedding_matrix: torch.Tensor, radius: float, token_ids: Sequence[int] | None = None,
                        chunk_size: int = 1024) -> list[tuple[int, int, float]]:
    """Substitution pairs (i, j), i < j, with ‖W_i − W_j‖₂ ≤ radius, over token_ids (default: the whole
    vocabulary), computed chunk by chunk on W's device; sorted by (i, j)."""
    if radius < 0:
        raise UserInputError(f"radius must be >= 0, got {radius}")
    W = embedding_matrix.detach()
    ids = torch.arange(W.shape[0], device=W.device) if token_ids is None else torch.as_tensor(
        sorted(set(int(t) for t in token_ids)), dtype=torch.long, device=W.device)
    sub = W[ids].double()
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, len(ids), chunk_size):
        block = torch.cdist(sub[start:start + chunk_size], sub, compute_mode="donot_use_mm_for_euclid_dist")
        rows, cols = torch.nonzero(block <= radius, as_tuple=True)
        keep = rows + start < cols
        for r, c in zip(rows[keep].tolist(), cols[keep].tolist()):
            pairs.append((int(ids[r + start]), int(ids[c]), float(block[r, c])))
    return sorted(pairs)
