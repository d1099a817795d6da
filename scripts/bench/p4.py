"""P4 of docs/performance.md: srkd on GPUs, from the `gpu-check.json` that scripts/gpu-check.sh
writes on a GPU machine (copied to docs/gpu-check.json). A dry run (CPU-emulated adapters) is
never reported as GPU figures."""
import hashlib
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
             *stale_weights(path, check["weights_sha256"]),
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


def stale_weights(path: Path, measured: dict[str, str]) -> list[str]:
    """A paragraph naming the measured weights files that have changed since (the shipped file's
    sha256 differs): no GPU may be lent when weights change, so the rows stay, labelled."""
    root = path.resolve().parents[1]
    changed = []
    for name, sha in measured.items():
        file = root / name
        now = hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None
        if now != sha:
            changed.append(f"{name} (measured {sha[:12]}…, shipped now {now[:12] + '…' if now else 'absent'})")
    if not changed:
        return []
    return ["Changed since this run: " + ", ".join(changed) + ". The timings depend on a generator's architecture "
            "(weights/manifest.json), not on its weights' values; rerun `scripts/gpu-check.sh` on a GPU to measure "
            "the shipped files.", ""]
