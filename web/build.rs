//! Lists the shipped generators (`weights/*.bpk`) for the model picker, so a newly committed
//! student appears in the page on the next build with no code change. The files themselves are
//! copied next to the app by trunk, turned into byte planes (`NAME.bpk.planes`, web/precache.sh)
//! and fetched at run time.

use std::fmt::Write as _;
use std::path::Path;

/// Display names and order: students first (the page's purpose) — the PSNR-oriented student
/// (configs/student-srresnet-kd.toml) as the default, then the paper's in its table order with
/// the no-KD baseline last; the first listed is the default.
const KNOWN: &[(&str, &str)] = &[
    ("student-srresnet-kd", "Student · SRResNet KD, PSNR (248 k)"),
    ("student-mse", "Student · MSE init, PSNR (248 k)"),
    ("student-gan2gan", "Student · GAN2GAN (248 k)"),
    ("student-gan2g", "Student · GAN2G (248 k)"),
    ("student-gan2g-al", "Student · GAN2G+AL (248 k)"),
    ("student-g2g-al", "Student · G2G+AL (248 k)"),
    ("student-nokd", "Student · no KD (248 k)"),
    ("teacher-srgan", "Teacher · SRGAN (1.55 M)"),
    ("teacher-srresnet", "Teacher · SRResNet (1.55 M)"),
    ("teacher-g", "Teacher · G, content only (1.55 M)"),
];

fn main() {
    // Read at run time: `env!` would bake in the folder the build script was compiled in, and
    // cargo reuses that binary for another checkout sharing the target directory.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let weights = Path::new(&manifest_dir).join("../weights");
    println!("cargo:rerun-if-changed={}", weights.display());
    // A page without models is useless: fail the build loudly rather than ship an empty list.
    let dir = std::fs::read_dir(&weights)
        .unwrap_or_else(|e| panic!("{}: cannot list the shipped weights ({e})", weights.display()));
    let mut stems: Vec<String> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".bpk")).map(str::to_string))
        .collect();
    assert!(!stems.is_empty(), "{}: no .bpk generators to ship", weights.display());
    let rank = |s: &str| KNOWN.iter().position(|(k, _)| *k == s).unwrap_or(KNOWN.len());
    stems.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    let mut code = String::from("/// The shipped generators, default first.\npub const MODELS: &[ShippedModel] = &[\n");
    for stem in &stems {
        let label = KNOWN.iter().find(|(k, _)| k == stem).map(|(_, l)| l.to_string()).unwrap_or_else(|| stem.clone());
        writeln!(code, "    ShippedModel {{ id: {stem:?}, file: \"weights/{stem}.bpk.planes\", label: {label:?} }},")
            .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("models.rs");
    std::fs::write(out, code).unwrap();
}
