//! One rater's answers as the page exports them (JSON or CSV) and `srkd serve` stores them,
//! and the names of the hidden reference and the gold item.

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
            serde_json::from_str(text)
                .map_err(|e| Error::NotARatingFile { file: source.into(), reason: e.to_string() })?
        } else {
            Self::from_csv(source, text)?
        };
        if session.rater.trim().is_empty() {
            return Err(Error::EmptyRater { file: source.into() });
        }
        let mut seen = BTreeSet::new();
        for r in &session.ratings {
            if !(1..=5).contains(&r.score) {
                let (image, method) = (r.image.clone(), r.method.clone());
                return Err(Error::ScoreOutOfRange { file: source.into(), image, method, score: r.score });
            }
            if !seen.insert((r.image.as_str(), r.method.as_str())) {
                return Err(Error::RatedTwice {
                    file: source.into(),
                    image: r.image.clone(),
                    method: r.method.clone(),
                });
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
        let bad = |reason: String| Error::NotARatingFile { file: source.into(), reason };
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
            let (found, expected) = (s.study.clone(), study.unwrap_or_default().to_string());
            return Err(Error::OtherStudy { file: source.clone(), found, expected });
        }
        if let Some(first) = raters.insert(s.rater.as_str(), source.as_str()) {
            return Err(Error::DuplicateRater { file: source.clone(), rater: s.rater.clone(), first: first.into() });
        }
    }
    Ok(())
}
