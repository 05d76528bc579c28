"""Derivations (a)–(d), (j)–(l): randomized smoothing in parameter space (Thms 4.2–4.4, Lemma E.1).

The extremal case is a half-space S(θ) = 1{vᵀθ ≥ b}. With c = vᵀθ − b and s = σ‖v‖ its smoothed score is
g = Φ(c/s); moving θ by r along −v/‖v‖ changes c by −r‖v‖, i.e. u = c/s by −r/σ.
Each function takes the claim under test as arguments (defaults: the paper's claim) so that a mutant
claim can be fed to the same checker.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from theory.derivations.core import Derivation, Phi, Phi_inv, identity, nonnegative, phi

sigma = sp.Symbol("sigma", positive=True)
s = sp.Symbol("s", positive=True)  # σ‖v‖
c = sp.Symbol("c", real=True)  # vᵀθ − b
u = sp.Symbol("u", real=True)
r = sp.Symbol("r", nonnegative=True)
t = sp.Symbol("t", nonnegative=True)
p = sp.Symbol("p", positive=True)
q = sp.Symbol("q", positive=True)
z = sp.Symbol("z", real=True)
w = sp.Symbol("w", real=True)
x = sp.Symbol("x", real=True)
k = sp.Symbol("k", nonnegative=True)

SIGMA = {sigma: (0.1, 3.0)}
PAPER_LIPSCHITZ = 1 / (sp.sqrt(2 * sp.pi) * sigma)  # Thm 4.2 constant
PAPER_WEAK_CONSTANT = 1 / sp.sqrt(2 * sp.pi)  # φ(0)

Bound = Callable[[sp.Expr, sp.Expr, sp.Expr], sp.Expr]


def strong_bound(p_a: sp.Expr, dist: sp.Expr, sd: sp.Expr) -> sp.Expr:
    """Thm 4.3: Φ(Φ⁻¹(p_a) − r/σ)."""
    return Phi(Phi_inv(p_a) - dist / sd)


def half_space_lipschitz(claimed_constant: sp.Expr = PAPER_LIPSCHITZ) -> Derivation:
    """(a) Smoothed half-space = Φ((vᵀθ − b)/(σ‖v‖)); its gradient norm peaks at 1/(√(2π)σ): Thm 4.2 is tight."""
    y = sp.Symbol("y", real=True)
    density = sp.exp(-(y**2) / (2 * s**2)) / (sp.sqrt(2 * sp.pi) * s)
    smoothed = sp.integrate(density, (y, -c, sp.oo))  # P(vᵀε ≥ −c), vᵀε ~ N(0, s²)
    grad_norm = sp.diff(Phi(u), u) / sigma  # ‖∇θ g‖ = |∂g/∂c| ‖v‖ = φ(u)/σ
    peak = grad_norm.subs(u, 0)
    steps = (
        identity("P(vᵀ(θ+ε) ≥ b) = Φ((vᵀθ − b)/(σ‖v‖))", smoothed, Phi(c / s), {c: (-3, 3), s: (0.1, 3)}),
        identity("‖∇θ Φ((vᵀθ−b)/(σ‖v‖))‖ = φ(u)/σ", grad_norm, phi(u) / sigma, {u: (-3, 3), **SIGMA}),
        nonnegative("φ(0)/σ − φ(u)/σ ≥ 0 (t = u²/2 ≥ 0: 1 − e^(−t) ≥ 0)",
                    (1 - sp.exp(-t)) / (sp.sqrt(2 * sp.pi) * sigma), {t: (0, 10), **SIGMA}, var=t),
        identity("sup_u ‖∇g‖ = φ(0)/σ equals the claimed Lipschitz constant", claimed_constant, peak, SIGMA),
    )
    return Derivation("a", "Thm 4.2 is tight on a half-space", "sup ‖∇ E S(θ+ε)‖ = 1/(√(2π) σ)",
                      sp.Eq(sp.Symbol("L"), claimed_constant), steps)


def half_space_quantile(claimed_bound: Bound = strong_bound) -> Derivation:
    """(b) Φ⁻¹ of the smoothed half-space is affine with slope 1/σ: Lemma E.1 / Thm 4.3 hold with equality."""
    ranges = {u: (-3, 3), r: (0, 3), **SIGMA}
    moved = Phi(u - r / sigma)  # exact smoothed score after moving r along −v/‖v‖
    steps = (
        identity("Φ⁻¹(Φ(u)) = u: Φ⁻¹ of the smoothed half-space is (vᵀθ − b)/(σ‖v‖)", Phi_inv(Phi(u)), u,
                 {u: (-3, 3)}),
        identity("d/dt [(c + t‖v‖)/(σ‖v‖)] = 1/σ: slope 1/σ per unit ‖Δθ‖ along v", sp.diff((c + t * s / sigma) / s, t),
                 1 / sigma, {c: (-1, 1), t: (0, 1), s: (0.1, 3), **SIGMA}),
        identity("claimed bound at p = Φ(u), distance r equals the exact moved score Φ(u − r/σ)",
                 claimed_bound(Phi(u), r, sigma), moved, ranges),
    )
    return Derivation("b", "Lemma E.1 / Thm 4.3 are equalities on a half-space",
                      "E S(θ+Δ+ε) = Φ(Φ⁻¹(p_A) − ‖Δ‖/σ) for S = 1{vᵀθ ≥ b}, Δ ∥ −v",
                      sp.Eq(sp.Function("g")(r), claimed_bound(p, r, sigma)), steps)


def strong_implies_weak(weak_constant: sp.Expr = PAPER_WEAK_CONSTANT) -> Derivation:
    """(c) Φ(Φ⁻¹(p) − r/σ) ≥ p − k r/σ with k = 1/√(2π), for all p ∈ (0,1), r ≥ 0."""
    g = weak_constant * r / sigma - Phi(z) + Phi(z - r / sigma)  # z = Φ⁻¹(p)
    steps = (
        identity("g(0) = 0 for g(r) = k r/σ − p + Φ(Φ⁻¹(p) − r/σ)", g.subs(r, 0), sp.S.Zero, {z: (-3, 3), **SIGMA}),
        identity("g′(r) = (k − φ(w))/σ with w = Φ⁻¹(p) − r/σ", sp.diff(g, r),
                 (weak_constant - phi(z - r / sigma)) / sigma, {z: (-3, 3), r: (0, 3), **SIGMA}),
        nonnegative("k − φ(w) ≥ 0 for all w (t = w²/2 ≥ 0)", weak_constant - sp.exp(-t) / sp.sqrt(2 * sp.pi),
                    {t: (0, 10)}, var=t),
    )
    return Derivation("c", "Strong bound implies weak bound",
                      "Φ(Φ⁻¹(p) − r/σ) ≥ p − r/(√(2π)σ) for all p ∈ [0,1], r ≥ 0",
                      sp.Ge(strong_bound(p, r, sigma), p - weak_constant * r / sigma), steps)


def radius(claimed_radius: Bound = lambda pa, qq, sd: sd * (Phi_inv(pa) - Phi_inv(qq))) -> Derivation:
    """(d) Certified radius: the r solving Φ(Φ⁻¹(p_A) − r/σ) = q, and the bound decreases in r."""
    ranges = {p: (0.5, 0.99), q: (0.01, 0.5), **SIGMA}
    rad = claimed_radius(p, q, sigma)
    steps = (
        identity("Φ(Φ⁻¹(p_A) − R/σ) = q at the claimed R", strong_bound(p, rad, sigma), q, ranges),
        nonnegative("−∂/∂r Φ(Φ⁻¹(p_A) − r/σ) ≥ 0: the bound stays ≥ q for every r ≤ R",
                    -sp.diff(strong_bound(p, r, sigma), r).subs(sp.erfinv(2 * p - 1), z), {z: (-3, 3), r: (0, 3),
                                                                                           **SIGMA}),
    )
    return Derivation("d", "Certified radius", "‖Δθ‖ ≤ σ(Φ⁻¹(p_A) − Φ⁻¹(q)) keeps E S(θ+ε) ≥ q",
                      sp.Eq(sp.Symbol("R"), rad), steps)


def dataset_convexity(shift_sign: int = -1) -> Derivation:
    """(j) p ↦ Φ(Φ⁻¹(p) − c) is convex for c ≥ 0, so the per-example Thm 4.3 bound averages to the dataset
    bound Φ(Φ⁻¹(mean p_x) − max r_x/σ) (Jensen): the rigorous Thm 4.5 dataset bound."""
    F = Phi(Phi_inv(p) + shift_sign * k)
    second = sp.simplify(sp.diff(F, p, 2).subs(sp.erfinv(2 * p - 1), w / sp.sqrt(2)))
    steps = (nonnegative("∂²/∂p² Φ(Φ⁻¹(p) − c) ≥ 0 (w = Φ⁻¹(p))", second, {w: (-3, 3), k: (0.01, 3)}),)
    return Derivation("j", "Convexity behind the rigorous dataset bound (Thm 4.5, embedding noise)",
                      "p ↦ Φ(Φ⁻¹(p) − c) is convex for c ≥ 0", sp.Eq(sp.Function("F")(p), F), steps)


def concentration(claimed_deviation: sp.Expr | None = None) -> Derivation:
    """(k) Thm 4.4 for the extremal (linear) L-Lipschitz score: Chernoff P(Z ≥ x) ≤ e^(−x²/2), so with
    probability ≥ 1 − δ a draw is ≥ mean − Lσ√(2 log(1/δ))."""
    lam = sp.Symbol("lambda", real=True)
    L = sp.Symbol("L", positive=True)
    delta = sp.Symbol("delta", positive=True)
    if claimed_deviation is None:
        claimed_deviation = L * sigma * sp.sqrt(2 * sp.log(1 / delta))
    from sympy.stats import E, Normal

    Z = Normal("Z", 0, 1)
    exponent = lam**2 / 2 - lam * x  # log of Markov's bound E e^(λZ) / e^(λx)
    lam_star = sp.solve(sp.diff(exponent, lam), lam)[0]
    dev = sp.Symbol("T", positive=True)
    steps = (
        identity("E e^(λZ) = e^(λ²/2)", E(sp.exp(lam * Z)), sp.exp(lam**2 / 2), {lam: (-2, 2)}),
        identity("min_λ (λ²/2 − λx) = −x²/2 at λ = x", exponent.subs(lam, lam_star), -(x**2) / 2, {x: (0, 3)}),
        identity("exp(−T²/(2L²σ²)) = δ at the claimed deviation T",
                 sp.exp(-(dev**2) / (2 * L**2 * sigma**2)).subs(dev, claimed_deviation), delta,
                 {delta: (1e-6, 0.5), L: (0.1, 3), **SIGMA}),
    )
    return Derivation("k", "Thm 4.4 (Gaussian concentration, linear extremal case)",
                      "P(S(θ+ε) < E S − Lσ√(2 log(1/δ))) ≤ δ", sp.Eq(sp.Symbol("T"), claimed_deviation), steps)


def lipschitz_any_score(score_of: Callable[[sp.Expr], sp.Expr] = lambda U: U / (1 + U)) -> Derivation:
    """(l) Thm 4.2 for every measurable S: Ω → [0, 1]. Along a unit direction u,
    ∂_u E S(θ+ε) = E[S(θ+ε) X] with X = uᵀε/σ² ~ N(0, 1/σ²) (Stein: ∂_θ φ_σ(y−θ) = φ_σ(y−θ)(y−θ)/σ²);
    S X ≤ X₊ pointwise when 0 ≤ S ≤ 1, and E X₊ = 1/(√(2π)σ). `score_of` maps U ≥ 0 onto the claimed score
    range (default U/(1+U) ∈ [0, 1))."""
    y, theta = sp.Symbol("y", real=True), sp.Symbol("theta", real=True)
    U, Y = sp.Symbol("U", nonnegative=True), sp.Symbol("Y", nonnegative=True)
    S = score_of(U)
    density = sp.exp(-((y - theta) ** 2) / (2 * sigma**2))
    xs = sp.Symbol("x", real=True)
    x_density = sp.exp(-(xs**2) * sigma**2 / 2) * sigma / sp.sqrt(2 * sp.pi)  # N(0, 1/σ²)
    ranges = {U: (0, 20), Y: (0, 5)}
    steps = (
        identity("Stein: ∂_θ e^(−(y−θ)²/(2σ²)) = e^(−(y−θ)²/(2σ²)) (y − θ)/σ²", sp.diff(density, theta),
                 density * (y - theta) / sigma**2, {y: (-2, 2), theta: (-2, 2), **SIGMA}),
        nonnegative("X ≥ 0 (X = Y): X₊ − S X = Y (1 − S) ≥ 0", Y * (1 - S), ranges),
        nonnegative("X < 0 (X = −Y): X₊ − S X = S Y ≥ 0", S * Y, ranges),
        identity("E X₊ = ∫₀^∞ x N(x; 0, 1/σ²) dx = 1/(√(2π)σ)", sp.integrate(xs * x_density, (xs, 0, sp.oo)),
                 PAPER_LIPSCHITZ, SIGMA),
    )
    return Derivation("l", "Thm 4.2 for any score S: Ω → [0, 1]",
                      "|∂_u E S(θ+ε)| ≤ E X₊ = 1/(√(2π)σ) for every unit u and measurable S with values in [0, 1]",
                      sp.Le(sp.Symbol("‖∇ E S(θ+ε)‖"), PAPER_LIPSCHITZ), steps)
