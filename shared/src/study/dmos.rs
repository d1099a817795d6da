//! Differential mean opinion scores from absolute-category ratings (1 = Bad … 5 = Excellent)
//! with a hidden reference, as the paper defines them (eq. 4–6, Table 3): for rater i and a
//! super-resolved item j (an image shown by one method), d_ij = r_i,ref(j) − r_ij (eq. 4);
//! z_ij = (d_ij − d̄_i) / σ_i (eq. 5), where d̄_i and σ_i (sample standard deviation, n − 1) are
//! taken over rater i's **super-resolved items only** — the hidden reference is not one of the
//! j; DMOS_j = mean over raters of 100 (z_ij + 3) / 6 (eq. 6). Higher DMOS = further from the
//! reference. A rater whose d_ij are all equal (σ_i = 0) cannot be z-scored and is excluded.
//!
//! Beside the table, the hidden reference gets a sanity figure on the same per-rater scale
//! (d = 0 put through the same d̄_i, σ_i); it is not part of the z-scores or the method means.
//! Also 95% confidence intervals over raters and, in [`super::screening`], ITU-R BT.500
//! observer screening. One implementation serves the web page, `srkd serve` and `srkd dmos`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::screening::{Screening, screen};
use super::session::{GOLD, REFERENCE, RaterSession};
use super::stats::{mean, sample_std, t95};
use crate::Error;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DmosOptions {
    /// Leave out raters that BT.500 screening rejects (they are always reported).
    pub exclude_outliers: bool,
}

/// DMOS of one item with its 95% confidence interval over raters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DmosCell {
    pub dmos: f64,
    /// Half-width of the 95% confidence interval (Student t over raters); `None` for one rater.
    pub ci95: Option<f64>,
    pub raters: usize,
}

/// A rater left out of the DMOS, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    pub rater: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DmosTable {
    pub study: String,
    /// `dmos[image][method]`, super-resolved items only (eq. 6).
    pub dmos: BTreeMap<String, BTreeMap<String, DmosCell>>,
    /// Sanity figure, not a DMOS of eq. 6: where the hidden reference of each image (d = 0)
    /// falls on each rater's scale, 100 ((0 − d̄_i) / σ_i + 3) / 6, averaged over raters. A
    /// reference that raters recognise sits well below the methods.
    #[serde(default)]
    pub reference: BTreeMap<String, DmosCell>,
    /// Mean DMOS of each method over the images it was shown on.
    pub method_means: BTreeMap<String, f64>,
    pub excluded: Vec<Exclusion>,
    pub screening: Vec<Screening>,
    /// Raters whose scores are in the table.
    pub raters: Vec<String>,
}

impl DmosTable {
    /// Images in order.
    pub fn images(&self) -> Vec<&str> {
        self.dmos.keys().map(String::as_str).collect()
    }

    /// The rated methods in order (the hidden reference is not one of them).
    pub fn methods(&self) -> Vec<&str> {
        let m: BTreeSet<&str> = self.dmos.values().flat_map(|row| row.keys().map(String::as_str)).collect();
        m.into_iter().collect()
    }

    /// The lowest (best) DMOS among the methods for `image`.
    pub fn best_for(&self, image: &str) -> Option<(&str, f64)> {
        self.dmos.get(image)?.iter().map(|(m, c)| (m.as_str(), c.dmos)).min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Mean of the reference sanity figure over the images.
    pub fn reference_mean(&self) -> Option<f64> {
        let v: Vec<f64> = self.reference.values().map(|c| c.dmos).collect();
        (!v.is_empty()).then(|| mean(&v))
    }

    /// The table as CSV: one row per method, one column per image (DMOS), then the mean; a last
    /// row `reference (sanity, not z-scored)` holds the hidden reference's sanity figure.
    pub fn to_csv(&self) -> String {
        let images = self.images();
        let mut out = format!("method,{},mean\n", images.iter().map(|i| csv_field(i)).collect::<Vec<_>>().join(","));
        for method in self.methods() {
            let cells: Vec<String> = images
                .iter()
                .map(|i| match self.dmos.get(*i).and_then(|r| r.get(method)) {
                    Some(c) => format!("{:.2}", c.dmos),
                    None => String::new(),
                })
                .collect();
            let mean = self.method_means.get(method).map(|m| format!("{m:.2}")).unwrap_or_default();
            out.push_str(&format!("{},{},{mean}\n", csv_field(method), cells.join(",")));
        }
        if !self.reference.is_empty() {
            let cells: Vec<String> = images
                .iter()
                .map(|i| self.reference.get(*i).map(|c| format!("{:.2}", c.dmos)).unwrap_or_default())
                .collect();
            let mean = self.reference_mean().map(|m| format!("{m:.2}")).unwrap_or_default();
            out.push_str(&format!("{},{},{mean}\n", REFERENCE_SANITY_LABEL, cells.join(",")));
        }
        out
    }
}

/// How tables name the reference's sanity row.
pub const REFERENCE_SANITY_LABEL: &str = "reference (sanity, not z-scored)";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The DMOS table of a study's sessions (already checked with [`check_sessions`]).
pub fn compute_dmos(sessions: &[RaterSession], options: DmosOptions) -> Result<DmosTable, Error> {
    let study = sessions.first().map(|s| s.study.clone()).ok_or(Error::NoRatings)?;
    let all: Vec<&RaterSession> = sessions.iter().collect();
    let screening = screen(&all);
    let mut excluded = Vec::new();
    // Per rater: z-scores of every item.
    let mut z_by_item: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut reference_by_image: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut raters = Vec::new();
    'raters: for (s, verdict) in sessions.iter().zip(&screening) {
        if options.exclude_outliers && verdict.outlier {
            excluded.push(Exclusion { rater: s.rater.clone(), reason: "rejected by BT.500 observer screening".into() });
            continue;
        }
        let references: BTreeMap<&str, f64> =
            s.ratings.iter().filter(|r| r.method == REFERENCE).map(|r| (r.image.as_str(), r.score as f64)).collect();
        // Eq. 4: one difference score per super-resolved item; the reference is not an item.
        let mut diffs = Vec::with_capacity(s.ratings.len());
        let mut rated_references = Vec::new();
        for r in s.ratings.iter().filter(|r| r.method != GOLD) {
            let Some(reference) = references.get(r.image.as_str()) else {
                excluded.push(Exclusion {
                    rater: s.rater.clone(),
                    reason: format!("did not rate the reference of image {}", r.image),
                });
                continue 'raters;
            };
            if r.method == REFERENCE {
                rated_references.push(r.image.clone());
            } else {
                diffs.push(((r.image.clone(), r.method.clone()), reference - r.score as f64));
            }
        }
        let values: Vec<f64> = diffs.iter().map(|(_, d)| *d).collect();
        if values.len() < 2 {
            excluded.push(Exclusion {
                rater: s.rater.clone(),
                reason: "fewer than two rated super-resolved images".into(),
            });
            continue;
        }
        // Eq. 5: mean and standard deviation over this rater's super-resolved items.
        let (m, sd) = (mean(&values), sample_std(&values));
        if sd == 0.0 || !sd.is_finite() {
            excluded.push(Exclusion {
                rater: s.rater.clone(),
                reason: "their difference scores have zero variance, so they cannot be z-scored".into(),
            });
            continue;
        }
        let scaled = |d: f64| 100.0 * ((d - m) / sd + 3.0) / 6.0; // eq. 6, one rater's term
        for (item, d) in diffs {
            z_by_item.entry(item).or_default().push(scaled(d));
        }
        for image in rated_references {
            reference_by_image.entry(image).or_default().push(scaled(0.0));
        }
        raters.push(s.rater.clone());
    }
    if raters.is_empty() {
        let excluded = excluded.iter().map(|e| format!("{} ({})", e.rater, e.reason)).collect();
        return Err(Error::NoScorableRater { excluded });
    }
    let mut dmos: BTreeMap<String, BTreeMap<String, DmosCell>> = BTreeMap::new();
    let mut per_method: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for ((image, method), scores) in z_by_item {
        let cell = cell_over_raters(&scores);
        per_method.entry(method.clone()).or_default().push(cell.dmos);
        dmos.entry(image).or_default().insert(method, cell);
    }
    let method_means = per_method.into_iter().map(|(m, v)| (m, mean(&v))).collect();
    let reference = reference_by_image.into_iter().map(|(image, v)| (image, cell_over_raters(&v))).collect();
    Ok(DmosTable { study, dmos, reference, method_means, excluded, screening, raters })
}

/// Mean over raters with its 95% confidence interval.
fn cell_over_raters(scores: &[f64]) -> DmosCell {
    let n = scores.len();
    let ci95 = (n >= 2).then(|| t95(n - 1) * sample_std(scores) / (n as f64).sqrt());
    DmosCell { dmos: mean(scores), ci95, raters: n }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{Rating, check_sessions};

    fn session(rater: &str, scores: &[(&str, &str, u8)]) -> RaterSession {
        RaterSession {
            rater: rater.into(),
            study: "s".into(),
            ratings: scores
                .iter()
                .map(|(i, m, s)| Rating { image: (*i).into(), method: (*m).into(), score: *s, ms: None })
                .collect(),
        }
    }

    #[test]
    fn a_gold_item_changes_nothing_in_the_table() {
        let a = session("a", &[("i", REFERENCE, 5), ("i", "A", 3), ("i", "B", 4)]);
        let b = session("b", &[("i", REFERENCE, 4), ("i", "A", 1), ("i", "B", 4)]);
        let plain = compute_dmos(&[a.clone(), b.clone()], DmosOptions::default()).unwrap();
        let with_gold: Vec<RaterSession> = [(a, 1), (b, 5)]
            .into_iter()
            .map(|(mut s, gold)| {
                s.ratings.push(Rating { image: "i".into(), method: GOLD.into(), score: gold, ms: None });
                s
            })
            .collect();
        let gold = compute_dmos(&with_gold, DmosOptions::default()).unwrap();
        assert_eq!(serde_json::to_string(&plain.dmos).unwrap(), serde_json::to_string(&gold.dmos).unwrap());
        assert_eq!(plain.reference, gold.reference);
        assert_eq!(plain.screening, gold.screening);
        assert!(!gold.method_means.contains_key(GOLD));
    }

    #[test]
    fn csv_export_parses_back_to_the_same_session() {
        let mut s = session("rater, \"quoted\"", &[("img 1", REFERENCE, 5), ("img 1", "A", 2)]);
        s.ratings[1].ms = Some(1234.5);
        let csv = s.to_csv();
        assert!(csv.starts_with("rater,study,image,method,score,ms\n"), "{csv}");
        assert_eq!(RaterSession::parse("r.csv", &csv).unwrap(), s);
        let err =
            RaterSession::parse("r.csv", "rater,study,image,method,score,ms\na,s,i,m,9,\n").unwrap_err().to_string();
        assert!(err.contains("r.csv") && err.contains("outside 1–5"), "{err}");
        let err = RaterSession::parse("r.csv", "rater,study,image,method,score,ms\na,s,i,m,3,\nb,s,i,n,3,\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2 belongs to rater `b`"), "{err}");
        let err = RaterSession::parse("r.csv", "a,b\n1,2\n").unwrap_err().to_string();
        assert!(err.contains("CSV header"), "{err}");
        let err = RaterSession::parse("r.csv", "rater,study,image,method,score,ms\n").unwrap_err().to_string();
        assert!(err.contains("no ratings"), "{err}");
    }

    /// Worked by hand from eq. 4–6 (the reference is not one of the j):
    /// rater a: ref 5, A 3, B 4, C 1 → d = 2, 1, 4 → d̄ = 7/3, σ = √(7/3) = 1.527525
    ///   → z = −0.218218, −0.872872, 1.091089 → 100(z+3)/6 = 46.3630, 35.4521, 68.1848;
    /// rater b: ref 4, A 2, B 4, C 3 → d = 2, 0, 1 → d̄ = 1, σ = 1 → z = 1, −1, 0
    ///   → 66.6667, 33.3333, 50.0000.
    /// DMOS: A 56.5148, B 34.3927, C 59.0924. Reference sanity (d = 0): a → z = −1.527525
    /// → 24.5412; b → z = −1 → 33.3333; mean 28.9373.
    /// (With the reference's d = 0 among the j, as this module once did, A would be 62.10.)
    #[test]
    fn hand_computed_dmos_follows_eq_4_to_6() {
        let a = session("a", &[("img1", REFERENCE, 5), ("img1", "A", 3), ("img1", "B", 4), ("img1", "C", 1)]);
        let b = session("b", &[("img1", REFERENCE, 4), ("img1", "A", 2), ("img1", "B", 4), ("img1", "C", 3)]);
        let t = compute_dmos(&[a, b], DmosOptions::default()).unwrap();
        let cell = |m: &str| t.dmos["img1"][m];
        for (method, expected) in [("A", 56.5148), ("B", 34.3927), ("C", 59.0924)] {
            assert!((cell(method).dmos - expected).abs() < 1e-4, "{method}: {}", cell(method).dmos);
        }
        assert!((t.reference["img1"].dmos - 28.9373).abs() < 1e-4, "{}", t.reference["img1"].dmos);
        // The reference is a sanity row, not a method: not in the table, the means or best_for.
        assert_eq!(t.methods(), vec!["A", "B", "C"]);
        assert!(!t.method_means.contains_key(REFERENCE));
        assert_eq!(t.best_for("img1").unwrap().0, "B");
        // CI over two raters: t(1) · s / √2 with s the sample std of the two raters' terms.
        let term_a = 100.0 * ((2.0 - 7.0 / 3.0) / (7.0f64 / 3.0).sqrt() + 3.0) / 6.0;
        let term_b = 100.0 * (1.0 + 3.0) / 6.0;
        let s = (term_a - term_b).abs() / 2f64.sqrt();
        assert!((cell("A").ci95.unwrap() - 12.706 * s / 2f64.sqrt()).abs() < 1e-9);
        assert!(t.excluded.is_empty());
    }

    #[test]
    fn a_rater_with_equal_differences_on_every_image_is_excluded() {
        // d = 1 on both super-resolved items: σ_i = 0 over the j of eq. 5. (Counting the
        // reference's d = 0 as an item would have given this rater a variance.)
        let even = session("even", &[("i", REFERENCE, 5), ("i", "A", 4), ("i", "B", 4)]);
        let ok = session("ok", &[("i", REFERENCE, 5), ("i", "A", 2), ("i", "B", 4)]);
        let t = compute_dmos(&[even, ok], DmosOptions::default()).unwrap();
        assert_eq!(t.raters, vec!["ok"]);
        assert!(t.excluded.iter().any(|e| e.rater == "even" && e.reason.contains("zero variance")));
    }

    #[test]
    fn raters_that_cannot_be_z_scored_are_excluded_with_a_reason() {
        let ok = session("ok", &[("i", REFERENCE, 5), ("i", "A", 2), ("i", "B", 4)]);
        let flat = session("flat", &[("i", REFERENCE, 3), ("i", "A", 3), ("i", "B", 3)]);
        let no_ref = session("noref", &[("i", "A", 2), ("i", "B", 4)]);
        let t = compute_dmos(&[ok, flat, no_ref], DmosOptions::default()).unwrap();
        assert_eq!(t.raters, vec!["ok"]);
        let reasons: BTreeMap<_, _> = t.excluded.iter().map(|e| (e.rater.as_str(), e.reason.as_str())).collect();
        assert!(reasons["flat"].contains("zero variance"));
        assert!(reasons["noref"].contains("reference of image i"));
        assert!(t.dmos["i"]["A"].ci95.is_none());
        let only_flat = session("flat", &[("i", REFERENCE, 3), ("i", "A", 3)]);
        assert!(compute_dmos(&[only_flat], DmosOptions::default()).is_err());
    }

    #[test]
    fn bt500_flags_a_rater_far_from_the_others_in_both_directions() {
        // Twelve raters spread 2–4 around 3 on every item (kurtosis ≈ 2.6: the 2σ rule); a
        // thirteenth alternates 5 and 1, beyond 2σ on every item, on both sides.
        // Each crowd rater's scores rotate through the crowd across methods, so every item
        // sees the same spread and every rater has variance across the methods.
        let crowd = [2u8, 3, 3, 4, 3, 2, 4, 3, 3, 3, 4, 2];
        let methods = ["A", "B", "C", "D"];
        let mut sessions = Vec::new();
        for r in 0..crowd.len() {
            let mut scores = vec![("i", REFERENCE, 5)];
            scores.extend(methods.iter().enumerate().map(|(k, m)| ("i", *m, crowd[(r + k) % crowd.len()])));
            sessions.push(session(&format!("r{r}"), &scores));
        }
        sessions
            .push(session("odd", &[("i", REFERENCE, 5), ("i", "A", 5), ("i", "B", 1), ("i", "C", 5), ("i", "D", 1)]));
        let t = compute_dmos(&sessions, DmosOptions::default()).unwrap();
        let flagged: Vec<&str> = t.screening.iter().filter(|s| s.outlier).map(|s| s.rater.as_str()).collect();
        assert_eq!(flagged, vec!["odd"]);
        let odd = t.screening.iter().find(|s| s.rater == "odd").unwrap();
        assert_eq!((odd.above, odd.below), (2, 2));
        // Flagged raters stay in unless asked.
        assert!(t.raters.contains(&"odd".to_string()));
        assert_eq!(t.raters.len(), 13);
        let t = compute_dmos(&sessions, DmosOptions { exclude_outliers: true }).unwrap();
        assert!(!t.raters.contains(&"odd".to_string()));
        assert!(t.excluded.iter().any(|e| e.rater == "odd" && e.reason.contains("BT.500")));
    }

    #[test]
    fn bad_files_are_named() {
        assert!(RaterSession::parse("x.json", "{").unwrap_err().to_string().contains("x.json"));
        let out_of_range = r#"{"rater":"a","study":"s","ratings":[{"image":"i","method":"A","score":6}]}"#;
        assert!(RaterSession::parse("y.json", out_of_range).unwrap_err().to_string().contains("outside 1–5"));
        let twice = r#"{"rater":"a","study":"s","ratings":[{"image":"i","method":"A","score":2},{"image":"i","method":"A","score":3}]}"#;
        assert!(RaterSession::parse("z.json", twice).unwrap_err().to_string().contains("twice"));
        let foreign = r#"{"name":"something else"}"#;
        assert!(RaterSession::parse("f.json", foreign).is_err());
        let a = RaterSession::parse("a.json", r#"{"rater":"a","study":"s","ratings":[]}"#).unwrap();
        let other = RaterSession::parse("b.json", r#"{"rater":"b","study":"t","ratings":[]}"#).unwrap();
        let dup = RaterSession::parse("c.json", r#"{"rater":"a","study":"s","ratings":[]}"#).unwrap();
        let err = check_sessions(&[("a.json".into(), a.clone()), ("b.json".into(), other)]).unwrap_err().to_string();
        assert!(err.contains("b.json") && err.contains("study"));
        let err = check_sessions(&[("a.json".into(), a), ("c.json".into(), dup)]).unwrap_err().to_string();
        assert!(err.contains("c.json") && err.contains("already"));
    }

    #[test]
    fn csv_has_a_row_per_method() {
        let a = session("a", &[("img,1", REFERENCE, 5), ("img,1", "A", 3), ("img,1", "B", 4)]);
        let b = session("b", &[("img,1", REFERENCE, 4), ("img,1", "A", 1), ("img,1", "B", 4)]);
        let csv = compute_dmos(&[a, b], DmosOptions::default()).unwrap().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "method,\"img,1\",mean");
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("A,"));
        assert!(lines[3].starts_with(REFERENCE_SANITY_LABEL), "{csv}");
    }
}
