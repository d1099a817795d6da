"""P4 of docs/performance.md: srkd on GPUs, from the `gpu-check.json` that scripts/gpu-check.sh
writes on a GPU machine (copied to docs/gpu-check.json). A dry run (CPU-emulated adapters) is
never reported as GPU figures."""
import json
import statistics
from pathlib import Path


def p4_section(path: Path) -> list[str]:
    if not path.exists():
        return ["- P4 (srkd on GPUs: inference and training steps/s, one GPU and all): no GPU was lent to this work; "
                "`scripts/gpu-check.sh` is the prepared run (its `--dry-run` passes on this CPU), and its "
                "`gpu-check.json` copied to `docs/gpu-check.json` fills this section."]
    check = json.loads(path.read_text())
    if check.get("dry_run"):
        return [f"- P4: {path} comes from a `--dry-run` (CPU-emulated adapters, toy sizes); not GPU figures."]
    adapters = ", ".join(f"{a['name']} ({a['api']}, {a['kind']})" for a in check["adapters"]["adapters"]) or "none"
    lines = ["## P4 — srkd on GPUs (`scripts/gpu-check.sh`)", "",
             f"Measured on srkd {check['commit']} (binary sha256 {check['srkd_sha256'][:12]}…), adapters: {adapters}. "
             "Weights: " + ", ".join(f"{k} {v[:12]}…" for k, v in check["weights_sha256"].items()) + ".", "",
             "| backend | model | input | output | median s | GFLOP/s |", "|---|---|---|---|---|---|"]
    for run in check["infer"]:
        w, h = run["size"], run.get("height", run["size"])
        for r in run["results"]:
            lines.append(f"| {run['backend']} | {r['model']} | {w}×{h} | {4 * w}×{4 * h} | {r['median_seconds']:.4f} | "
                         f"{r['flops'] / r['median_seconds'] / 1e9:.0f} |")
    lines += ["", "| schedule | devices | s/step | steps/s | images/s |", "|---|---|---|---|---|"]
    for train in check["train"]:
        for r in train["results"]:
            s = statistics.median(r["seconds"])
            lines.append(f"| {r['schedule']} | {r['devices']} | {s:.3f} | {1 / s:.2f} | {train['batch'] / s:.1f} |")
    return lines
