"""P8 of docs/performance.md: the web page on a 4000×3000 input (16000×12000 PNG, streamed), from
the `large-memory.json` web/tests/large.mjs writes as scripts/bench-page-memory.sh runs it.
Run as a script, it replaces (or adds) just the P8 section of an existing report."""
import json
from pathlib import Path

from p7 import splice_section_cli  # scripts/bench/p7.py


def p8_section(d: Path) -> list[str]:
    path = d / "large-memory.json"
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    rss = r["browser_tree_rss_kib"]
    return ["", f"## P8 — the web page on a {r['input']} input ({r['output']} out)", "",
            "The page in headless Chromium (`web/tests/large.mjs` with `SRKD_LARGE_SHIPPED=1`): a picture beyond "
            "1024² is upscaled tile by tile and its ×4 PNG written band by band into the result's blob, so neither the "
            "WebAssembly memory nor the tab holds the 16× larger result. WebAssembly memory is its peak (it never "
            "shrinks); resident sizes are sampled every 0.5 s over Chromium's processes.", "",
            "| model | path | page s (generator + PNG) | WebAssembly memory MiB | largest browser process MiB | all browser processes MiB (before → peak) | raw result MiB |",
            "|---|---|---|---|---|---|---|",
            f"| {Path(r['model']).stem} | {r['backend']}, {r['kernels']} | {r['page_generator_and_png_ms'] / 1000:.0f} | "
            f"{r['wasm_memory_bytes'] / 2**20:.0f} | {r['largest_child_process_rss_kib'] / 1024:.0f} | "
            f"{rss['before'] / 1024:.0f} → {rss['peak'] / 1024:.0f} | {r['raw_result_bytes'] / 2**20:.0f} |",
            "", f"Measured on srkd {r['commit']} (web/dist by scripts/build-web.sh); input: {r['input_file']}; weights "
            f"{r['model']} sha256 {r['weights_sha256'][:12]}…; 1-minute load average before the run {r['loadavg_before']} "
            "on 2 cores (above ~0.5 other work was running and the time is an upper bound). "
            "`scripts/bench-page-memory.sh` reruns just this section."]


if __name__ == "__main__":
    splice_section_cli(__doc__, p8_section, "## P8", "large-memory.json")
