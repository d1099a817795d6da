//! A rating study as `srkd study export` writes it and the web page runs it: the items raters
//! score (one image shown by one method, the hidden reference among them), an optional
//! training trial, and the per-rater trial order. The order is a pure function of the study
//! and the rater id, so a reloaded page resumes at the same trial and the order can be
//! recomputed anywhere.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::session::REFERENCE;
use crate::Error;

/// One trial: `image` shown as produced by `method`, the file at `url` (relative to the
/// study's `study.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyItem {
    pub image: String,
    pub method: String,
    pub url: String,
}

/// The contents of `study.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Identifies the study in every rating file; files of another study are refused.
    pub id: String,
    pub title: String,
    /// Shown once before the study to calibrate the rater; its rating is not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<StudyItem>,
    pub items: Vec<StudyItem>,
    /// The rater's view served by `srkd serve`: every method is an opaque `item-N` (the hidden
    /// reference too), so ratings are sent to the server instead of turned into DMOS here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub methods_hidden: bool,
    /// Where the pictures came from (run, weights, eval set, commit); informative only.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub provenance: serde_json::Value,
}

impl Study {
    /// Parse and check a `study.json`; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Self, Error> {
        let study: Study =
            serde_json::from_str(text).map_err(|e| Error::NotAStudy { file: source.into(), reason: e.to_string() })?;
        study.check().map_err(|reason| Error::InvalidStudy { file: source.into(), reason })?;
        Ok(study)
    }

    /// A study DMOS can be computed from: items present and unique, a reference for every
    /// image, file names that stay inside the study folder.
    pub fn check(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("the study id is empty".into());
        }
        if self.items.is_empty() {
            return Err("the study has no items".into());
        }
        let mut seen = BTreeSet::new();
        let mut has_reference: BTreeMap<&str, bool> = BTreeMap::new();
        for item in self.items.iter().chain(&self.training) {
            if item.url.is_empty() || item.url.starts_with('/') || item.url.contains("..") || item.url.contains("://") {
                return Err(format!(
                    "item {} / {}: url `{}` must be a path inside the study folder",
                    item.image, item.method, item.url
                ));
            }
        }
        for item in &self.items {
            if !seen.insert((item.image.as_str(), item.method.as_str())) {
                return Err(format!("{} / {} is listed twice", item.image, item.method));
            }
            *has_reference.entry(&item.image).or_default() |= item.method == REFERENCE;
        }
        if let Some((image, _)) = has_reference.iter().find(|(_, has)| !**has && !self.methods_hidden) {
            return Err(format!("image {image} has no `{REFERENCE}` item, so its ratings cannot be turned into DMOS"));
        }
        Ok(())
    }

    /// The order in which `rater` sees the items (indices into `items`).
    pub fn trial_order(&self, rater: &str) -> Vec<usize> {
        trial_order(&format!("{}\n{rater}", self.id), self.items.len())
    }
}

/// A permutation of `0..n` seeded by `key` (FNV-1a → SplitMix64 → Fisher–Yates): the same on
/// every platform, different for different raters.
pub fn trial_order(key: &str, n: usize) -> Vec<usize> {
    let mut state = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        // Multiply-shift instead of `%`: no modulo bias.
        let j = ((next() as u128 * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(image: &str, method: &str) -> StudyItem {
        StudyItem { image: image.into(), method: method.into(), url: format!("{image}-{method}.png") }
    }

    fn study(items: Vec<StudyItem>) -> Study {
        Study {
            id: "s".into(),
            title: "t".into(),
            training: None,
            items,
            methods_hidden: false,
            provenance: serde_json::Value::Null,
        }
    }

    #[test]
    fn order_is_a_permutation_stable_per_rater_and_different_between_raters() {
        let s = study(
            (0..30)
                .map(|i| item(&format!("i{}", i / 3), if i % 3 == 0 { REFERENCE } else { "m" }))
                .map(|mut it| {
                    it.url = format!("{}{}", it.image, it.url.len());
                    it
                })
                .collect(),
        );
        let a = s.trial_order("alice");
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..30).collect::<Vec<_>>());
        assert_eq!(a, s.trial_order("alice"));
        assert_ne!(a, s.trial_order("bob"));
        assert_ne!(a, (0..30).collect::<Vec<_>>());
    }

    #[test]
    fn studies_that_cannot_give_dmos_are_refused() {
        let ok = study(vec![item("a", REFERENCE), item("a", "x")]);
        assert!(ok.check().is_ok());
        let err = study(vec![item("a", "x")]).check().unwrap_err();
        assert!(err.contains("no `reference` item"), "{err}");
        // The rater's view of `srkd serve` names no method, the reference included.
        let view = Study { methods_hidden: true, ..study(vec![item("a", "item-0"), item("a", "item-1")]) };
        assert!(view.check().is_ok());
        let err = study(vec![item("a", REFERENCE), item("a", REFERENCE)]).check().unwrap_err();
        assert!(err.contains("listed twice"), "{err}");
        let mut escape = item("a", REFERENCE);
        escape.url = "../../etc/passwd".into();
        assert!(study(vec![escape]).check().unwrap_err().contains("inside the study folder"));
        assert!(study(vec![]).check().is_err());
        let err = Study::parse("s.json", "{\"id\": 3}").unwrap_err().to_string();
        assert!(err.starts_with("s.json: not a study file"), "{err}");
    }
}
