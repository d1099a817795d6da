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
//! Also 95% confidence intervals over raters and ITU-R BT.500 observer screening. One
//! implementation serves the web page and `srkd dmos`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Error;

/// The method name of the hidden reference in a study.
pub const REFERENCE: &str = "reference";

/// The hidden reference shown a second time (`srkd study export --gold N`): a gold item for
/// screening raters (P.910 practice). It is never a super-resolved image of eq. 4–6, so it
/// stays out of the z-scores, the table and the BT.500 screening; `srkd serve` flags raters
/// who score it ≤ 2 or far from the first showing.
pub const GOLD: &str = "reference-repeat";

/// One rating as the page records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub image: String,
    pub method: String,
    pub score: u8,
    /// Response time, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
}

/// One rater's finished (or partial) session, as exported by the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaterSession {
    pub rater: String,
    pub study: String,
    pub ratings: Vec<Rating>,
}

impl RaterSession {
    /// Parse and check one exported file, JSON or CSV; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Self, Error> {
        let session: RaterSession = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::Config(format!("{source}: not a rating file ({e})")))?
        } else {
            Self::from_csv(source, text)?
        };
        if session.rater.trim().is_empty() {
            return Err(Error::Config(format!("{source}: the rater id is empty")));
        }
        let mut seen = BTreeSet::new();
        for r in &session.ratings {
            if !(1..=5).contains(&r.score) {
                return Err(Error::Config(format!(
                    "{source}: score {} for {} / {} is outside 1–5",
                    r.score, r.image, r.method
                )));
            }
            if !seen.insert((r.image.as_str(), r.method.as_str())) {
                return Err(Error::Config(format!("{source}: {} / {} is rated twice", r.image, r.method)));
            }
        }
        Ok(session)
    }
}

const CSV_HEADER: [&str; 6] = ["rater", "study", "image", "method", "score", "ms"];

#[derive(Serialize, Deserialize)]
struct CsvRow {
    rater: String,
    study: String,
    image: String,
    method: String,
    score: u8,
    ms: Option<f64>,
}

impl RaterSession {
    /// The session as CSV, one rating per row (`rater,study,image,method,score,ms`).
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for r in &self.ratings {
            let row = CsvRow {
                rater: self.rater.clone(),
                study: self.study.clone(),
                image: r.image.clone(),
                method: r.method.clone(),
                score: r.score,
                ms: r.ms,
            };
            writer.serialize(row).expect("writing CSV to memory cannot fail");
        }
        if self.ratings.is_empty() {
            writer.write_record(CSV_HEADER).expect("writing CSV to memory cannot fail");
        }
        String::from_utf8(writer.into_inner().expect("in-memory writer")).expect("CSV of UTF-8 strings")
    }

    fn from_csv(source: &str, text: &str) -> Result<Self, Error> {
        let bad = |what: String| Error::Config(format!("{source}: not a rating file ({what})"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
        if header.iter().collect::<Vec<_>>() != CSV_HEADER {
            return Err(bad(format!("CSV header must be `{}`", CSV_HEADER.join(","))));
        }
        let mut session: Option<RaterSession> = None;
        for (line, row) in reader.deserialize::<CsvRow>().enumerate() {
            let row = row.map_err(|e| bad(format!("row {}: {e}", line + 1)))?;
            let s = session.get_or_insert_with(|| RaterSession {
                rater: row.rater.clone(),
                study: row.study.clone(),
                ratings: Vec::new(),
            });
            if row.rater != s.rater || row.study != s.study {
                return Err(bad(format!(
                    "row {} belongs to rater `{}` of study `{}`, the file starts with `{}` of `{}`",
                    line + 1,
                    row.rater,
                    row.study,
                    s.rater,
                    s.study
                )));
            }
            s.ratings.push(Rating { image: row.image, method: row.method, score: row.score, ms: row.ms });
        }
        session.ok_or_else(|| bad("no ratings".into()))
    }
}

/// A set of sessions of one study, checked for mixing: one study id, each rater once.
pub fn check_sessions(sessions: &[(String, RaterSession)]) -> Result<(), Error> {
    let mut raters = BTreeMap::new();
    let study = sessions.first().map(|(_, s)| s.study.as_str());
    for (source, s) in sessions {
        if Some(s.study.as_str()) != study {
            return Err(Error::Config(format!(
                "{source}: belongs to study `{}`, not `{}`",
                s.study,
                study.unwrap_or_default()
            )));
        }
        if let Some(first) = raters.insert(s.rater.as_str(), source.as_str()) {
            return Err(Error::Config(format!("{source}: rater `{}` already comes from {first}", s.rater)));
        }
    }
    Ok(())
}

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

/// BT.500 screening verdict of one rater (on raw scores).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub rater: String,
    /// Scores above / below the item's mean by the BT.500 margin.
    pub above: usize,
    pub below: usize,
    pub items: usize,
    pub outlier: bool,
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

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard deviation (n − 1).
fn sample_std(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
}

/// Two-sided 95% Student t quantile for `df` degrees of freedom.
fn t95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// ITU-R BT.500 observer screening on raw scores: for each item, a rater's score counts as
/// high/low beyond 2σ (normal items, kurtosis 2–4) or √20·σ (otherwise); a rater is rejected
/// when more than 5% of their scores are outside and they are not biased to one side
/// (|P − Q| / (P + Q) < 0.3).
fn screen(sessions: &[&RaterSession]) -> Vec<Screening> {
    let mut by_item: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for s in sessions {
        for r in s.ratings.iter().filter(|r| r.method != GOLD) {
            by_item.entry((&r.image, &r.method)).or_default().push(r.score as f64);
        }
    }
    let stats: BTreeMap<(&str, &str), (f64, f64)> = by_item
        .iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(k, v)| {
            let m = mean(v);
            let n = v.len() as f64;
            let m2 = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
            let m4 = v.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
            let kurtosis = if m2 > 0.0 { m4 / (m2 * m2) } else { 3.0 };
            let s = sample_std(v);
            let margin = if (2.0..=4.0).contains(&kurtosis) { 2.0 * s } else { 20f64.sqrt() * s };
            (*k, (m, margin))
        })
        .collect();
    sessions
        .iter()
        .map(|s| {
            let (mut above, mut below, mut items) = (0, 0, 0);
            for r in &s.ratings {
                if let Some((m, margin)) = stats.get(&(r.image.as_str(), r.method.as_str())) {
                    items += 1;
                    let u = r.score as f64;
                    if *margin > 0.0 && u >= m + margin {
                        above += 1;
                    } else if *margin > 0.0 && u <= m - margin {
                        below += 1;
                    }
                }
            }
            let outside = above + below;
            let outlier = items > 0
                && outside as f64 / items as f64 > 0.05
                && ((above as f64 - below as f64) / outside as f64).abs() < 0.3;
            Screening { rater: s.rater.clone(), above, below, items, outlier }
        })
        .collect()
}

/// The DMOS table of a study's sessions (already checked with [`check_sessions`]).
pub fn compute_dmos(sessions: &[RaterSession], options: DmosOptions) -> Result<DmosTable, Error> {
    let study = sessions.first().map(|s| s.study.clone()).ok_or_else(|| Error::Config("no rating files".into()))?;
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
        return Err(Error::Config(format!(
            "no rater can be scored: {}",
            excluded.iter().map(|e| format!("{} ({})", e.rater, e.reason)).collect::<Vec<_>>().join("; ")
        )));
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
