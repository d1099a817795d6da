//! Study quality controls in the way P.910 crowdsourcing toolkits apply them: each check raises
//! a flag the experimenter sees beside the rater; none is ever applied silently (excluding a
//! rater is the experimenter's decision, `/results`).

use serde::Serialize;
use srkd_core::study::{GOLD, REFERENCE, RaterSession};

/// The thresholds (`srkd serve --min-view-ms`).
#[derive(Clone, Copy, Debug)]
pub struct QualityChecks {
    /// An answer given faster than this (ms) counts as not looked at.
    pub min_view_ms: f64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Flag {
    pub check: &'static str,
    pub detail: String,
}

/// Flags for one rater's answers so far.
pub fn flags(session: &RaterSession, checks: QualityChecks) -> Vec<Flag> {
    let mut flags = Vec::new();
    // Gold item: the hidden reference is the undistorted picture; rating it Poor or Bad means
    // the rater is not judging quality (or not looking).
    let low_references: Vec<&str> =
        session.ratings.iter().filter(|r| r.method == REFERENCE && r.score <= 2).map(|r| r.image.as_str()).collect();
    if !low_references.is_empty() {
        flags.push(Flag {
            check: "reference-low",
            detail: format!("rated the hidden reference ≤ 2 on {}", low_references.join(", ")),
        });
    }
    // Gold items (`srkd study export --gold N`): the reference shown again must score high,
    // and about as high as its first showing.
    for gold in session.ratings.iter().filter(|r| r.method == GOLD) {
        let first = session.ratings.iter().find(|r| r.method == REFERENCE && r.image == gold.image);
        if gold.score <= 2 {
            flags.push(Flag {
                check: "gold-low",
                detail: format!("rated the repeated reference of {} {}", gold.image, gold.score),
            });
        } else if let Some(first) = first.filter(|f| f.score.abs_diff(gold.score) >= 2) {
            flags.push(Flag {
                check: "gold-inconsistent",
                detail: format!("rated the reference of {} {} and its repeat {}", gold.image, first.score, gold.score),
            });
        }
    }
    // Minimum spread: one score for everything carries no information (and cannot be z-scored).
    if session.ratings.len() >= 5 && session.ratings.iter().all(|r| r.score == session.ratings[0].score) {
        flags.push(Flag {
            check: "no-spread",
            detail: format!("all {} answers are {}", session.ratings.len(), session.ratings[0].score),
        });
    }
    let fast = session.ratings.iter().filter(|r| r.ms.is_some_and(|ms| ms < checks.min_view_ms)).count();
    if fast > 0 {
        flags.push(Flag {
            check: "too-fast",
            detail: format!("{fast} answers given in under {:.0} ms", checks.min_view_ms),
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use srkd_core::study::Rating;

    fn session(ratings: &[(&str, &str, u8, f64)]) -> RaterSession {
        RaterSession {
            rater: "r".into(),
            study: "s".into(),
            ratings: ratings
                .iter()
                .map(|&(image, method, score, ms)| Rating {
                    image: image.into(),
                    method: method.into(),
                    score,
                    ms: Some(ms),
                })
                .collect(),
        }
    }

    #[test]
    fn each_check_flags_what_it_names_and_nothing_else() {
        let checks = QualityChecks { min_view_ms: 1000.0 };
        let good = session(&[("a", REFERENCE, 5, 3000.0), ("a", "x", 3, 2500.0), ("b", REFERENCE, 4, 2000.0)]);
        assert!(flags(&good, checks).is_empty());
        let bad = session(&[
            ("a", REFERENCE, 2, 3000.0),
            ("a", "x", 2, 300.0),
            ("b", REFERENCE, 2, 2000.0),
            ("b", "x", 2, 999.0),
            ("c", REFERENCE, 2, 1000.0),
        ]);
        let found: Vec<&str> = flags(&bad, checks).iter().map(|f| f.check).collect();
        assert_eq!(found, ["reference-low", "no-spread", "too-fast"]);
        assert!(flags(&bad, checks)[0].detail.ends_with("on a, b, c"));
        assert_eq!(flags(&bad, checks)[2].detail, "2 answers given in under 1000 ms");
        let gold = session(&[
            ("a", REFERENCE, 5, 3000.0),
            ("a", GOLD, 3, 3000.0),
            ("b", REFERENCE, 4, 3000.0),
            ("b", GOLD, 2, 3000.0),
        ]);
        let found: Vec<&str> = flags(&gold, checks).iter().map(|f| f.check).collect();
        assert_eq!(found, ["gold-inconsistent", "gold-low"]);
    }
}
