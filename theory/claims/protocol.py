"""The pre-registered protocol of the "GO enlarges the basin about 5x" claim, owned by the registry: the toy
sweep (toymodels.enlarge) and the real-model runs (llm_check) run it; landscape.enlargement supplies the
enlargement test and landscape.enlargement_protocol the model-agnostic runner.

Arms. From one start model θ_s (both arms fine-tune from it, same data order, seed and step count):
  control  AdamW, σ_train = 0;
  GO       the same AdamW inside GO at σ_train = m · σ_b, σ_b the control's σ-basin at the full budget (the
           anchor, measured before GO trains). m = 5 is the primary arm (the claim's own number); m = 2 is
           secondary, reported beside it and never judged as the claim.
Training. GO trains in chunks of `plateau_every` steps up to the budget and stops at the first chunk whose
  monitored E_ε L(θ + ε) (fixed noise seeds and rows: common random numbers) fell by less than
  `plateau_rel_tol` of the previous value: the plateau. The control is read at the same step count (its
  run is deterministic, so its checkpoint at that step is the same-budget control). A GO run that reached the
  budget without a plateau is reported as under-trained (a guard: it cannot hold).
Gate. Clean-score equivalence by a paired TOST on per-example 0-1 outcomes, d_i = O_GO(x_i) − O_control(x_i):
  both one-sided tests at level `gate_alpha` ⇔ the two-sided (1 − 2·gate_alpha) interval of the mean of d lies
  inside ±gate_margin_fraction·τ. Otherwise the entry is "not-measured: clean score not shown equal", with the
  numbers. The set must hold at least `gate_min_examples_toy` (toys) or `gate_min_examples_llm` (a pooled basic
  set on a real LLM) examples: at a ≈ 10 % flip rate a ±0.025 margin needs several hundred.
Test. The intersection–union enlargement test (landscape.enlargement.enlargement_test) on the two sequential
  σ-basins; GO's grid is the control's geometric grid (ratio ≤ max_grid_ratio) anchored at m·s, s the
  control's first certified-outside σ, so "enlarged" is reachable.
Units. The deciding unit is raw σ per coordinate after canonicalisation (landscape.symmetries: every handled
  function-preserving rescaling fixed at its minimum-norm representative); the multiplicative unit
  θ ⊙ (1 + σz), invariant to every diagonal rescaling, is reported beside it.
Control of the unit. A random function-preserving rescaling of the control must move its raw σ-basin and
  leave its canonical one in place.
Seeds. ≥ min_training_seeds_toy training seeds per toy width; a real-model run names its one seed.
"""

from __future__ import annotations

from dataclasses import dataclass

# The pooled basic set of a real-LLM run (BIG-bench 1.0.0 task paths, scored as multiple choice): the
# knowledge tasks with chance ≤ 0.26, 70 + 369 + 175 + 81 = 695 examples ≥ gate_min_examples_llm. Chosen by
# size and chance level before any model was scored on them.
LLM_BASIC_POOL = ("general_knowledge", "date_understanding", "hindu_knowledge", "physical_intuition")


@dataclass(frozen=True)
class EnlargementProtocol:
    primary_m: float = 5.0
    secondary_m: tuple[float, ...] = (2.0,)
    tau_fraction: float = 0.25
    gate_margin_fraction: float = 0.5
    gate_alpha: float = 0.05
    gate_min_examples_toy: int = 512
    gate_min_examples_llm: int = 500
    min_training_seeds_toy: int = 3
    plateau_rel_tol: float = 0.01
    plateau_every: int = 50
    max_grid_ratio: float = 2 ** 0.25
    sigma_basin_confidence: float = 0.975
    unit: str = "raw sigma per coordinate after canonicalisation"
    reported_unit: str = "multiplicative sigma (relative), theta * (1 + sigma z)"

    def gate_margin(self, tau: float) -> float:
        """±margin of the clean-score gate for tolerated drop τ (score units)."""
        return self.gate_margin_fraction * tau

    @property
    def arms(self) -> tuple[float, ...]:
        """Every GO arm's m, primary first."""
        return (self.primary_m, *self.secondary_m)


FIVE_X_PROTOCOL = EnlargementProtocol()
