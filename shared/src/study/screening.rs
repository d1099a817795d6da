//! ITU-R BT.500 observer screening of a study's raters, on raw scores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::session::{GOLD, RaterSession};
use super::stats::{mean, sample_std};

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

/// ITU-R BT.500 observer screening on raw scores: for each item, a rater's score counts as
/// high/low beyond 2σ (normal items, kurtosis 2–4) or √20·σ (otherwise); a rater is rejected
/// when more than 5% of their scores are outside and they are not biased to one side
/// (|P − Q| / (P + Q) < 0.3).
pub(super) fn screen(sessions: &[&RaterSession]) -> Vec<Screening> {
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
