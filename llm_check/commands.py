"""Subcommands for the runs (registered into llm_check.cli by `register`): each loads the model and tasks
with the common lm-eval flags (llm_check.loading: output folder and tasks checked first), calls one
llm_check.runs / enlarge / quick function, prints a short line per capability and writes DIR/<command>.json
(with what was scored of each task) next to the resumable rows (DIR/rows.jsonl); DIR/manifest.json gets
one entry per command.

    llm-check run --quick --output-path DIR        quick check -> DIR/summary.json (--dry-run: cost only)
    llm-check curves|edges|sigma-basin|strict-basin|worst-case|certify|sft|input-robustness|enlarge ...
    llm-check safety-landscape --tasks harmbench --alphas ...   refused / complied / broken per α
    llm-check report DIR                           DIR/report.md with figures
    torchrun --nproc-per-node N -m llm_check distributed [--stage sigma-basin] ...   jobs sharded over ranks
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from llm_check.cli_args import (
    add_common_args,
    auto_or_positive_int,
    positive_float,
    positive_floats,
    positive_int,
    unit_interval,
)
from llm_check.loading import load_context, record_invocation, tasks_record, write_json
from theory.errors import UserInputError


def _write(ctx, caps, args: argparse.Namespace, name: str, payload: dict) -> Path:
    """DIR/<name>.json with the model's identity and what was scored of each task (llm_check.loading)."""
    return write_json(ctx.out_dir, name, {"model": ctx.model_id, "weight_hash": ctx.weight_hash,
                                          "tasks": tasks_record(caps, args.limit), **payload})


def _config(args: argparse.Namespace):
    from llm_check.quick import QuickConfig

    return QuickConfig(k=args.k, n_noise=args.n, n_certificate=args.n_certificate, tau=args.tau,
                       go_steps=args.go_steps, go_batch_size=args.go_batch_size, worst_steps=args.worst_steps,
                       sigma_search=args.sigma_search, examples_per_trial=args.examples_per_trial,
                       stages=(tuple(s.strip() for s in args.stages.split(",") if s.strip()) if args.stages is not None
                               else QuickConfig().stages))


def cmd_run(args: argparse.Namespace) -> int:
    from llm_check.quick import run_quick
    from llm_check.quick_cost import dry_run

    if args.full:
        return cmd_run_full(args)
    config = _config(args)
    ctx, caps = load_context(args)
    if args.dry_run:
        dry_run(ctx, caps, config)
        return 0
    summary = run_quick(ctx, caps, config)
    for name, block in summary["capabilities"].items():
        edge = block.get("basin_edge", {})
        print(f"{name}: clean={block.get('clean_score')} edge={edge.get('estimate')} ci={edge.get('ci')} "
              f"sigma_basin={block.get('sigma_basin', {}).get('estimate')} "
              f"worst/most={block.get('worst_to_most_ratio')}")
    print(f"go_enlargement: {summary.get('go_enlargement', {}).get('verdict')}")
    print(f"wrote {ctx.out_dir / 'summary.json'}")
    return 0


def cmd_run_full(args: argparse.Namespace) -> int:
    """The registry's 5x protocol on the model (llm_check.five_x): DIR/summary.json, report.md, loss curves."""
    from llm_check.fetch import cache_dir
    from llm_check.five_x import HELD_OUT_BLOCKS_PER_SET, FiveXConfig, FiveXData, blocks_tensor, run_five_x
    from llm_check.loading import DEFAULT_OUTPUT, prepare_output_dir, record_invocation
    from llm_check.model_io import load_model
    from llm_check.multiple_choice import MultipleChoiceScore
    from llm_check.training_data import basic_pool_task, training_tokens

    if args.dtype != "float32":
        raise UserInputError(f"--full trains float32 master weights (use --autocast bfloat16), got --dtype {args.dtype}")
    cfg = FiveXConfig(seed=args.seed, steps=args.full_steps, batch_size=args.full_batch_size,
                      block_size=args.block_size, n_trials=args.n, worst_k=args.worst_k, most_k=args.k,
                      worst_steps=args.worst_steps, tau_fraction=args.tau_fraction,
                      autocast=None if args.autocast == "none" else args.autocast, budget_s=args.budget_s,
                      arms=tuple(args.arms))
    out = prepare_output_dir(args.output_path or DEFAULT_OUTPUT)
    task = basic_pool_task()
    lm = load_model(args.model, dtype="float32", device=args.device)
    record_invocation(out, args, model=lm.model_id, weight_hash=lm.weight_hash, tasks=[task.name])
    score = MultipleChoiceScore(task, lm.tokenizer, batch_size=args.batch_size)
    tokens, meta = training_tokens(lm.tokenizer, args.train_tokens, cache_dir() / "five_x" / lm.weight_hash[:16])
    train_blocks, held = blocks_tensor(tokens, cfg.block_size, HELD_OUT_BLOCKS_PER_SET * (cfg.worst_k + 2))
    data = FiveXData(lm.model, score, train_blocks, held, lm.model_id, lm.weight_hash, provenance=meta)
    summary = run_five_x(data, cfg, out, cache=out / "weights")
    for claim, verdict in summary["verdicts"].items():
        print(f"{claim}: {verdict}")
    print(f"wrote {out / 'summary.json'} and {out / 'report.md'}")
    return 0


def cmd_curves(args: argparse.Namespace) -> int:
    from landscape.landscape_1d import symmetric_grid
    from llm_check.runs import most_case_curves

    ctx, caps = load_context(args)
    grid = symmetric_grid(args.alpha_max, args.points)
    out = {}
    for cap in caps:
        land = most_case_curves(ctx, cap, grid, k=args.k)
        out[cap.name] = {"alphas": land.alphas, "values": land.values.tolist(), "baseline": land.baseline,
                         "median": [m.to_dict() for m in land.median],
                         "strict_basin_fraction": [s.to_dict() for s in land.strict_basin_fraction]}
        print(f"{cap.name}: baseline {land.baseline:.3f}, {len(land.curves)} curves x {len(land.alphas)} alphas")
    _write(ctx, caps, args, "curves", {"curves": out})
    return 0


def cmd_edges(args: argparse.Namespace) -> int:
    from llm_check.quick import edge_block
    from llm_check.runs import basin_edge

    ctx, caps = load_context(args)
    out = {}
    for cap in caps:
        edges = basin_edge(ctx, cap, k=args.k, tau=args.tau)
        out[cap.name] = edge_block(ctx, cap, edges, args.k)
        m = edges.median
        print(f"{cap.name}: median edge {m.estimate:.4g} [{m.lo:.4g}, {m.hi:.4g}] (coverage {m.coverage})")
    _write(ctx, caps, args, "edges", {"edges": out})
    return 0


def cmd_sigma_basin(args: argparse.Namespace) -> int:
    from llm_check.runs import sigma_basin_run, sigma_points, sigma_trials

    ctx, caps = load_context(args)
    out = {}
    sequential = ({"b": args.examples_per_trial, "target_ratio": args.target_ratio}
                  if args.search == "sequential" else {})
    for cap in caps:
        basin = sigma_basin_run(ctx, cap, args.sigmas, tau=args.tau, n=args.n, kind=args.kind, search=args.search,
                                **sequential)
        out[cap.name] = {"sigma_basin": basin.sigma_basin.to_dict(), "points": sigma_points(basin),
                         "trials": sigma_trials(basin)}
        e = basin.sigma_basin
        print(f"{cap.name}: sigma_basin {e.estimate:.4g} [{e.lo:.4g}, {e.hi:.4g}] ({e.unit})")
    _write(ctx, caps, args, f"sigma_basin_{args.kind}", {"sigma_basin": out})
    return 0


def cmd_strict_basin(args: argparse.Namespace) -> int:
    from llm_check.runs import strict_basin

    ctx, caps = load_context(args)
    out = {}
    for cap in caps:
        sb = strict_basin(ctx, cap, args.sigma, n_directions=args.n_directions, target=args.target)
        out[cap.name] = {"sigma": sb.sigma, "fraction": sb.fraction.to_dict(), "n_same": sb.n_same,
                         "n_directions": sb.n_directions, "target": sb.target, "certified": sb.certified}
        print(f"{cap.name}: {sb.n_same}/{sb.n_directions} directions unchanged at sigma={sb.sigma:g}; "
              f"lower bound {sb.fraction.lo:.3f} ({'certified' if sb.certified else 'not certified'} >= {sb.target})")
    _write(ctx, caps, args, "strict_basin", {"strict_basin": out})
    return 0


def cmd_worst_case(args: argparse.Namespace) -> int:
    from llm_check.runs import basin_edge, worst_case

    ctx, caps = load_context(args)
    out = {}
    for cap in caps:
        most = basin_edge(ctx, cap, k=args.k, tau=args.tau).median.estimate
        run = worst_case(ctx, cap, most_case_edge=most, tau=args.tau, steps=args.steps)
        out[cap.name] = {"worst_edge": run.worst_edge, "most_case_median_edge": most,
                         "worst_to_most_ratio": run.worst_to_most_ratio, "direction": run.direction.to_key()}
        print(f"{cap.name}: worst edge {run.worst_edge:.4g}, most-case median {most:.4g}, "
              f"ratio {run.worst_to_most_ratio}")
    _write(ctx, caps, args, "worst_case", {"worst_case": out})
    return 0


def cmd_sft(args: argparse.Namespace) -> int:
    from landscape.landscape_1d import symmetric_grid
    from llm_check.runs import sft_case

    if not args.checkpoint.exists():
        raise UserInputError(f"checkpoint not found: {args.checkpoint}")
    ctx, caps = load_context(args)
    out = {}
    for cap in caps:
        land = sft_case(ctx, cap, args.checkpoint, symmetric_grid(args.alpha_max, args.points))
        out[cap.name] = {"alphas": land.alphas, "values": land.values[0].tolist(), "baseline": land.baseline}
        print(f"{cap.name}: SFT-direction curve over {len(land.alphas)} alphas")
    _write(ctx, caps, args, "sft", {"sft": out})
    return 0


def cmd_certify(args: argparse.Namespace) -> int:
    from llm_check.quick import certificate_block
    from llm_check.runs import certificate, finetuned_certificate

    ctx, caps = load_context(args)
    finetuned = None
    if args.finetuned is not None:
        from llm_check.model_io import load_model

        finetuned = load_model(args.finetuned, dtype=args.dtype, device=args.device)
    out = {}
    for cap in caps:
        if finetuned is None:
            cert = certificate(ctx, cap, args.sigma, n=args.n, q=args.q)
            out[cap.name] = certificate_block(ctx, cap, cert)
        else:
            check = finetuned_certificate(ctx, cap, finetuned.model, args.sigma, n=args.n, q=args.q,
                                          finetuned_id=finetuned.model_id, finetuned_hash=finetuned.weight_hash)
            cert = check.certificate
            out[cap.name] = {**certificate_block(ctx, cap, cert), "displacement_norm": check.displacement_norm,
                             "guaranteed": check.guaranteed, "guaranteed_weak": check.guaranteed_weak,
                             "measured": check.measured.to_dict(), "verdict": check.verdict}
        print(f"{cap.name}: p_A lower {cert.p_lower:.3f} (n={cert.p_a.n}), radius {cert.radius:.4g} ||dtheta||_2")
    _write(ctx, caps, args, "certificate", {"certificate": out})
    return 0


def cmd_input_robustness(args: argparse.Namespace) -> int:
    from llm_check.runs import certificate, input_robustness

    ctx, caps = load_context(args)
    out = {}
    for cap in caps:
        cert = certificate(ctx, cap, args.sigma, n=args.n)
        run = input_robustness(ctx, cap, args.sigma_emb, cert, n=args.n)
        out[cap.name] = {
            "sigma_emb": args.sigma_emb, "dataset_p_a": run.certificates.dataset_p_a.to_dict(),
            "radii": [c.radius for c in run.certificates.examples], "example_id": run.example_id,
            "substitution": run.substitution, "tied_embeddings": run.tied_embeddings,
            "rigorous": {"label": run.rigorous.label, "distance": run.rigorous.distance, "bound": run.rigorous.bound},
            "heuristic": {"label": run.heuristic.label, "distance": run.heuristic.distance,
                          "bound": run.heuristic.bound, "caveats": run.heuristic.caveats}}
        print(f"{cap.name}: rigorous bound {run.rigorous.bound:.3f}; heuristic {run.heuristic.bound:.3f} "
              f"(caveats: {'; '.join(run.heuristic.caveats) or 'none'})")
    _write(ctx, caps, args, "input_robustness", {"input_robustness": out})
    return 0


def cmd_enlarge(args: argparse.Namespace) -> int:
    from llm_check.enlarge import enlargement_check
    from llm_check.runs import sigma_basin_run

    ctx, caps = load_context(args)
    cap = caps[0]
    base = sigma_basin_run(ctx, cap, args.sigmas, tau=args.tau, n=args.n, search=args.search)
    enl = enlargement_check(ctx, cap, base.sigma_basin, args.sigmas, steps=args.go_steps,
                            batch_size=args.go_batch_size, tau=args.tau, n=args.n, search=args.search)
    summary = enl.summary()
    print(f"{cap.name}: factor {summary['factor']} ci {summary['ci']}, control {summary['control_factor']}; "
          f"{summary['verdict']}")
    _write(ctx, caps, args, "go_enlargement", {"go_enlargement": summary})
    return 0


def cmd_safety_landscape(args: argparse.Namespace) -> int:
    from llm_check.runs import safety_landscape
    from llm_check.safety import OUTCOMES, SafetyScore

    ctx, caps = load_context(args)
    safety = [c for c in caps if isinstance(c.score, SafetyScore)]
    if not safety:
        raise UserInputError("safety-landscape needs a safety task in --tasks (harmbench or a JSONL of prompts)")
    alphas = sorted({0.0, *args.alphas})
    if args.dry_run:
        from landscape.progress import median_seconds

        for cap in safety:
            ids = cap.id_list or list(range(cap.score.n_examples))
            probe = ids[:min(len(ids), args.batch_size)]
            per_prompt = median_seconds(lambda cap=cap, probe=probe: cap.score(ctx.model, probe), 1) / len(probe)
            evals = 1 + args.k * (len(alphas) - 1)
            print(f"{cap.name}: generation {per_prompt:.3g} s per prompt (measured on {len(probe)} prompts, "
                  f"{cap.score.max_new_tokens} new tokens); K={args.k} x {len(alphas) - 1} alphas + clean = {evals} "
                  f"evaluations x {len(ids)} prompts ~ {evals * len(ids) * per_prompt / 60:.1f} min")
        return 0
    out = {}
    for cap in safety:
        land = safety_landscape(ctx, cap, alphas, k=args.k)
        out[cap.name] = land.to_dict()
        print(f"{cap.name}: K={args.k} directions, {cap.n_examples} prompts, {land.wall_s:.0f} s")
        for alpha, rates in zip(land.alphas, land.rates()):
            print(f"  alpha {alpha:.4g}: " + ", ".join(
                f"{c} {rates[c].estimate:.3f} [{rates[c].lo:.3f}, {rates[c].hi:.3f}]" for c in OUTCOMES))
    _write(ctx, safety, args, "safety_landscape", {"safety_landscape": out})
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from llm_check.report import write_report

    path = write_report(args.directory)
    record_invocation(args.directory, args)
    print(f"wrote {path}")
    return 0


def cmd_distributed(args: argparse.Namespace) -> int:
    from llm_check.distributed import run_from_env

    return run_from_env(args)


def _quick_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="the quick check (its defaults are the flags below)")
    p.add_argument("--full", action="store_true",
                   help="the registry's 5x protocol on the pooled basic set (llm_check.five_x; --tasks is not used)")
    p.add_argument("--full-steps", dest="full_steps", type=positive_int, default=2000,
                   help="--full: each arm's step budget (upper end; --budget-s may cut it)")
    p.add_argument("--full-batch-size", dest="full_batch_size", type=positive_int, default=64)
    p.add_argument("--block-size", dest="block_size", type=positive_int, default=256, help="--full: tokens per row")
    p.add_argument("--train-tokens", dest="train_tokens", type=positive_int, default=16_000_000,
                   help="--full: training tokens to tokenise (pydoc_data + non-evaluation BIG-bench tasks)")
    p.add_argument("--budget-s", dest="budget_s", type=positive_float, default=None,
                   help="--full: wall-clock budget; the step budget is cut before training to fit it")
    p.add_argument("--autocast", choices=["bfloat16", "none"], default="none",
                   help="--full: forward/backward under bf16 autocast (master weights stay float32)")
    p.add_argument("--worst-k", dest="worst_k", type=positive_int, default=3, help="--full: worst-case directions")
    p.add_argument("--tau-fraction", dest="tau_fraction", type=unit_interval, default=0.25,
                   help="--full: tau as a fraction of S(control) - chance (the registry's 0.25)")
    p.add_argument("--arms", type=positive_floats, default=[5.0], help="--full: GO arms m (5 must be one)")
    p.add_argument("--k", type=positive_int, default=6, help="directions per capability (K)")
    p.add_argument("--n", type=positive_int, default=300,
                   help="sigma-basin: each sigma's trial budget (sequential) or draws per sigma (grid, bisect)")
    p.add_argument("--n-certificate", "--n_certificate", dest="n_certificate", type=positive_int, default=64,
                   help="noise draws of each certificate")
    p.add_argument("--b", dest="examples_per_trial", type=auto_or_positive_int, default="auto",
                   help="examples per sequential sigma-basin trial (auto: the cost rule)")
    p.add_argument("--tau", type=unit_interval, default=0.05, help="tolerated score drop")
    p.add_argument("--go-steps", "--go_steps", dest="go_steps", type=positive_int, default=20)
    p.add_argument("--go-batch-size", "--go_batch_size", dest="go_batch_size", type=positive_int, default=4)
    p.add_argument("--worst-steps", "--worst_steps", dest="worst_steps", type=positive_int, default=10)
    p.add_argument("--stages", default=None, help="comma-separated subset of edges,sigma_basin,worst_case,"
                                                  "certificate,go (default: all but go)")
    p.add_argument("--sigma-search", "--sigma_search", dest="sigma_search", choices=["sequential", "grid", "bisect"],
                   default="sequential", help="sigma-basins: the paired sequential engine, or fixed-n draws at every "
                                              "grid sigma / at those a binary search needs")


def register(sub: Any) -> None:
    """Add the run subcommands to llm_check.cli's subparsers."""
    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        add_common_args(p)
        p.set_defaults(func=func)
        return p

    _quick_flags(add("run", cmd_run, "the quick check (--quick) -> DIR/summary.json"))
    for name, func in (("curves", cmd_curves), ("sft", cmd_sft)):
        p = add(name, func, f"1-D landscape ({name})")
        p.add_argument("--alpha-max", "--alpha_max", dest="alpha_max", type=positive_float, default=0.01)
        p.add_argument("--points", type=positive_int, default=11)
        p.add_argument("--k", type=positive_int, default=8)
        if name == "sft":
            p.add_argument("--checkpoint", type=Path, required=True, help="fine-tuned safetensors file/dir")
    p = add("edges", cmd_edges, "basin edge per capability with an order-statistic interval")
    p.add_argument("--k", type=positive_int, default=8)
    p.add_argument("--tau", type=unit_interval, default=0.05)
    p = add("sigma-basin", cmd_sigma_basin, "sigma-basin (Def. 4.1) with a confidence interval")
    p.add_argument("--sigmas", type=positive_floats, required=True)
    p.add_argument("--n", type=positive_int, default=200,
                   help="each sigma's trial budget (sequential) or draws per sigma (grid, bisect)")
    p.add_argument("--tau", type=unit_interval, default=0.05)
    p.add_argument("--kind", choices=["gaussian", "multiplicative"], default="gaussian")
    p.add_argument("--search", choices=["sequential", "grid", "bisect"], default="sequential",
                   help="sequential: the paired anytime-valid engine; grid: n draws at every sigma; bisect: only "
                        "the sigmas a binary search over the grid needs")
    p.add_argument("--b", dest="examples_per_trial", type=auto_or_positive_int, default="auto",
                   help="examples per sequential trial (auto: the cost rule)")
    p.add_argument("--target-ratio", "--target_ratio", dest="target_ratio", type=positive_float, default=None,
                   help="sequential: stop once hi/lo <= this (the bracket window); default: every pending sigma")
    p = add("strict-basin", cmd_strict_basin, "fraction of directions with an unchanged score (CP bound)")
    p.add_argument("--sigma", type=positive_float, required=True)
    p.add_argument("--n-directions", "--n_directions", dest="n_directions", type=positive_int, default=51)
    p.add_argument("--target", type=unit_interval, default=0.9)
    p = add("worst-case", cmd_worst_case, "worst-case edge (tethered ascent on pydoc_data) and worst/most ratio")
    p.add_argument("--k", type=positive_int, default=8)
    p.add_argument("--tau", type=unit_interval, default=0.05)
    p.add_argument("--steps", type=positive_int, default=10)
    p = add("certify", cmd_certify, "parameter certificate (optionally checked at a fine-tuned checkpoint)")
    p.add_argument("--sigma", type=positive_float, required=True)
    p.add_argument("--n", type=positive_int, default=200)
    p.add_argument("--q", type=unit_interval, default=None)
    p.add_argument("--finetuned", default=None, help="fine-tuned model (same forms as --model)")
    p = add("input-robustness", cmd_input_robustness, "rigorous and heuristic token-substitution certificates")
    p.add_argument("--sigma-emb", "--sigma_emb", dest="sigma_emb", type=positive_float, required=True)
    p.add_argument("--sigma", type=positive_float, required=True, help="parameter sigma (heuristic variant)")
    p.add_argument("--n", type=positive_int, default=200)
    p = add("enlarge", cmd_enlarge, "the 5x check: GO fine-tuning vs control, sigma-basin factor")
    p.add_argument("--sigmas", type=positive_floats, required=True)
    p.add_argument("--n", type=positive_int, default=200)
    p.add_argument("--search", choices=["grid", "bisect"], default="grid",
                   help="grid: every sigma; bisect: only the sigmas a binary search over the grid needs")
    p.add_argument("--tau", type=unit_interval, default=0.05)
    p.add_argument("--go-steps", "--go_steps", dest="go_steps", type=positive_int, default=20)
    p.add_argument("--go-batch-size", "--go_batch_size", dest="go_batch_size", type=positive_int, default=4)
    p = add("distributed", cmd_distributed, "curves or sigma-basin jobs sharded over torchrun ranks")
    p.add_argument("--stage", choices=["curves", "sigma-basin"], default="curves",
                   help="curves: (direction, alpha) jobs; sigma-basin: the sequential engine's trials over ranks")
    p.add_argument("--search", choices=["sequential", "grid"], default="sequential",
                   help="sigma-basin: the paired sequential engine, or fixed-n pairs at every sigma")
    p.add_argument("--b", dest="examples_per_trial", type=auto_or_positive_int, default="auto",
                   help="examples per sequential trial (auto: the cost rule, timed on rank 0)")
    p.add_argument("--target-ratio", "--target_ratio", dest="target_ratio", type=positive_float, default=None,
                   help="sequential: stop once hi/lo <= this (the bracket window); default: every pending sigma")
    p.add_argument("--alpha-max", "--alpha_max", dest="alpha_max", type=positive_float, default=0.01)
    p.add_argument("--points", type=positive_int, default=11)
    p.add_argument("--k", type=positive_int, default=8)
    p.add_argument("--sigmas", type=positive_floats, default=None, help="sigma grid (--stage sigma-basin)")
    p.add_argument("--n", type=positive_int, default=200)
    p.add_argument("--tau", type=unit_interval, default=0.05)
    p.add_argument("--kind", choices=["gaussian", "multiplicative"], default="gaussian")
    p = add("safety-landscape", cmd_safety_landscape,
            "refused / complied / broken rates of a safety task along K raw Gaussian directions")
    p.add_argument("--alphas", type=positive_floats, required=True, help="alphas (per coordinate); 0 is added")
    p.add_argument("--k", type=positive_int, default=4)
    rep = sub.add_parser("report", help="DIR/report.md with figures from DIR/summary.json")
    rep.add_argument("directory", type=Path)
    rep.set_defaults(func=cmd_report)
