"""P7 of docs/performance.md: `srkd upscale` memory on a 4000×3000 input (16000×12000 out), from
the `memory-*.json` files scripts/bench-memory.sh writes (GNU time's maximum resident set size).
Run as a script, it replaces (or adds) just the P7 section of an existing report."""
import argparse
import json
from pathlib import Path


def p7_section(d: Path) -> list[str]:
    runs = [json.loads(p.read_text()) for p in sorted(d.glob("memory-*.json"))]
    if not runs:
        return []
    r0 = runs[0]
    lines = ["", f"## P7 — `srkd upscale` memory, {r0['input']} input ({r0['output']} out)", "",
             "One `srkd upscale IN OUT --model M` per model, measured by GNU time (`/usr/bin/time -v`, maximum resident "
             "set size). An 8-bit PNG result (RGB or grey) at the model's ×4 is written band by band (one row of tiles at "
             "a time) into the PNG encoder, so the 16× larger output is never held whole; `--scale`/`--width`, alpha, "
             "16-bit and JPEG outputs are resized or assembled whole. The web page streams the same way (README, Web "
             "page, large pictures; its memory for this input size is measured by `web/tests/large.mjs`).", "",
             "| model | input | output | wall s | max RSS MiB | output PNG MiB | output sha256 |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['model']} | {r['input']} | {r['output']} | {r['seconds']:.0f} | {r['max_rss_kib'] / 1024:.0f} | "
                     f"{r['png_bytes'] / 2**20:.0f} | {r['output_sha256'][:12]}… |")
    lines += ["", f"Measured on srkd {r0['commit']} (debug binary as scripts/bench-memory.sh builds it, backend `cpu`, "
              f"tile {r0['tile']}; 1-minute load average before the run {r0.get('loadavg', 'n/a')} on this machine: above "
              f"~0.5 other work was running and the wall times are upper bounds); input: {r0['source']}; weights sha256 "
              + ", ".join(f"{r['model']} {r['weights_sha256'][:12]}…" for r in runs)
              + ". `scripts/bench-memory.sh` reruns just this section."]
    return lines


def splice(doc_path: Path, new: list[str], heading: str) -> None:
    """Replace the section starting `heading` (or add it before "## Not measured yet" / the
    machine section) in the report at `doc_path`."""
    doc = doc_path.read_text().split("\n")
    start = next((i for i, l in enumerate(doc) if l.startswith(heading)), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(doc)) if doc[i].startswith("## ")), len(doc))
        doc[start - 1:end - 1] = new
    else:
        at = next(i for i, l in enumerate(doc) if l.startswith(("## Not measured yet", "## P4", "## Machine")))
        doc[at - 1:at - 1] = new
    doc_path.write_text("\n".join(doc))


def splice_section_cli(doc: str, section, heading: str, needs: str) -> None:
    """`--dir D --out REPORT`: replace just `heading`'s section of REPORT by `section(D)`."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    lines = section(Path(args.dir))
    if not lines:
        raise SystemExit(f"{args.dir}: no {needs}")
    splice(Path(args.out), lines, heading)
    print("\n".join(lines))


if __name__ == "__main__":
    splice_section_cli(__doc__, p7_section, "## P7", "memory-*.json")
