//! One rater going through a study, as a state machine the page drives: open (or resume) a
//! session, instructions, one practice trial, the study's items in the rater's order, undo,
//! finished. It holds no storage and no clock: the page saves [`RatingFlow::session`] after
//! each change and takes the change back with [`RatingFlow::undo`] if saving fails, so an
//! answer is either stored or not given.

use std::sync::Arc;

use super::format::{Study, StudyItem};
use super::session::{RaterSession, Rating};

/// Where the rater is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatingStage {
    Instructions,
    /// The practice picture: its rating is not recorded.
    Training,
    Trial,
    Finished,
}

impl RatingStage {
    /// The stage's name in the page's test hooks (`data-stage`).
    pub fn id(self) -> &'static str {
        match self {
            RatingStage::Instructions => "instructions",
            RatingStage::Training => "training",
            RatingStage::Trial => "trial",
            RatingStage::Finished => "finished",
        }
    }
}

/// An answer just recorded: the study item's index (what the server stores) and the rating.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub item: usize,
    pub rating: Rating,
}

/// One answer the server holds for a rater: the item's index in the study, score, time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServerAnswer {
    pub item: usize,
    pub score: u8,
    pub ms: Option<f64>,
}

/// Why a session cannot be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Stored answers are not this study's trials in this rater's order; they are left as they are.
    #[error(
        "The ratings stored for “{rater}” do not match this study, so they were left as they are. Use another rater id, or export them from DMOS results first."
    )]
    StoredSessionMismatch { rater: String },
    #[error("A rater id has at most {max} characters.")]
    RaterTooLong { max: usize },
    #[error("Enter a rater id (a name or a code) first.")]
    RaterEmpty,
}

/// The longest rater id the page accepts.
pub const MAX_RATER_LEN: usize = 64;

/// `input` as a rater id: trimmed, not empty, at most [`MAX_RATER_LEN`] characters.
pub fn rater_id(input: &str) -> Result<String, OpenError> {
    let rater = input.trim();
    if rater.is_empty() {
        Err(OpenError::RaterEmpty)
    } else if rater.chars().count() > MAX_RATER_LEN {
        Err(OpenError::RaterTooLong { max: MAX_RATER_LEN })
    } else {
        Ok(rater.to_string())
    }
}

#[derive(Clone, Debug)]
pub struct RatingFlow {
    study: Arc<Study>,
    order: Vec<usize>,
    session: RaterSession,
    stage: RatingStage,
}

impl RatingFlow {
    /// Open `rater`'s session: a new one, or `stored` (what this browser saved) continued where
    /// it stopped. Stored answers that are not the prefix of this rater's trial order are refused.
    pub fn open(study: Arc<Study>, rater: &str, stored: Option<RaterSession>) -> Result<Self, OpenError> {
        let order = study.trial_order(rater);
        let session = match stored {
            Some(stored) => {
                let fits = stored.study == study.id
                    && stored.rater == rater
                    && stored.ratings.len() <= study.items.len()
                    && stored.ratings.iter().zip(&order).all(|(r, &i)| {
                        let item = &study.items[i];
                        r.image == item.image && r.method == item.method
                    });
                if !fits {
                    return Err(OpenError::StoredSessionMismatch { rater: rater.to_string() });
                }
                stored
            }
            None => RaterSession { rater: rater.to_string(), study: study.id.clone(), ratings: Vec::new() },
        };
        let stage = match session.ratings.len() {
            0 => RatingStage::Instructions,
            n if n == study.items.len() => RatingStage::Finished,
            _ => RatingStage::Trial,
        };
        Ok(Self { study, order, session, stage })
    }

    /// The session the server holds for `rater` (answers by item index), as the answered prefix
    /// of their trial order; answers after a gap are not part of it.
    pub fn session_from_server(study: &Study, rater: &str, answers: &[ServerAnswer]) -> RaterSession {
        let mut ratings = Vec::new();
        for index in study.trial_order(rater) {
            let Some(answer) = answers.iter().find(|a| a.item == index) else { break };
            let item = &study.items[index];
            let (image, method) = (item.image.clone(), item.method.clone());
            ratings.push(Rating { image, method, score: answer.score, ms: answer.ms });
        }
        RaterSession { rater: rater.to_string(), study: study.id.clone(), ratings }
    }

    pub fn study(&self) -> &Arc<Study> {
        &self.study
    }

    pub fn session(&self) -> &RaterSession {
        &self.session
    }

    pub fn stage(&self) -> RatingStage {
        self.stage
    }

    /// Trials answered so far (the current trial's 0-based number).
    pub fn answered(&self) -> usize {
        self.session.ratings.len()
    }

    /// Leave the instructions: to the practice picture, or straight to the trials without one.
    pub fn begin(&mut self) {
        if self.stage == RatingStage::Instructions {
            self.stage = match self.study.training {
                Some(_) => RatingStage::Training,
                None => RatingStage::Trial,
            };
        }
    }

    /// The picture to rate now.
    pub fn current(&self) -> Option<&StudyItem> {
        match self.stage {
            RatingStage::Training => self.study.training.as_ref(),
            RatingStage::Trial => self.order.get(self.answered()).map(|&i| &self.study.items[i]),
            _ => None,
        }
    }

    /// The picture after the current one (to preload).
    pub fn next(&self) -> Option<&StudyItem> {
        let next = match self.stage {
            RatingStage::Training => 0,
            RatingStage::Trial => self.answered() + 1,
            _ => return None,
        };
        self.order.get(next).map(|&i| &self.study.items[i])
    }

    /// Rate the current picture `score` (1–5) after `ms` milliseconds. The practice trial is
    /// left without recording (`None`); otherwise the answer is recorded and returned. Out of
    /// range scores and ratings outside a trial change nothing.
    pub fn rate(&mut self, score: u8, ms: Option<f64>) -> Option<Answer> {
        if !(1..=5).contains(&score) {
            return None;
        }
        match self.stage {
            RatingStage::Training => {
                self.stage = RatingStage::Trial;
                None
            }
            RatingStage::Trial => {
                let item = *self.order.get(self.answered())?;
                let StudyItem { image, method, .. } = self.study.items[item].clone();
                let rating = Rating { image, method, score, ms };
                self.session.ratings.push(rating.clone());
                if self.answered() == self.study.items.len() {
                    self.stage = RatingStage::Finished;
                }
                Some(Answer { item, rating })
            }
            RatingStage::Instructions | RatingStage::Finished => None,
        }
    }

    /// Take back the last answer (from a trial or the finished screen): that picture is shown again.
    pub fn undo(&mut self) -> Option<Rating> {
        if !matches!(self.stage, RatingStage::Trial | RatingStage::Finished) {
            return None;
        }
        let last = self.session.ratings.pop()?;
        self.stage = RatingStage::Trial;
        Some(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study(items: usize, training: bool) -> Arc<Study> {
        let item = |n: usize| StudyItem { image: format!("i{n}"), method: "m".into(), url: format!("{n}.png") };
        Arc::new(Study {
            id: "s".into(),
            title: "t".into(),
            training: training.then(|| item(99)),
            items: (0..items).map(item).collect(),
            methods_hidden: true,
            provenance: serde_json::Value::Null,
        })
    }

    #[test]
    fn a_rater_goes_from_instructions_through_practice_to_finished() {
        let study = study(3, true);
        let mut flow = RatingFlow::open(study.clone(), "ann", None).unwrap();
        assert_eq!(flow.stage(), RatingStage::Instructions);
        assert_eq!(flow.rate(3, None), None, "no rating before the instructions are read");
        flow.begin();
        assert_eq!(flow.stage(), RatingStage::Training);
        assert_eq!(flow.current().unwrap().image, "i99");
        assert_eq!(flow.rate(5, Some(10.0)), None, "the practice is not recorded");
        assert_eq!(flow.answered(), 0);
        let order = study.trial_order("ann");
        for (n, &i) in order.iter().enumerate() {
            assert_eq!(flow.stage(), RatingStage::Trial);
            assert_eq!(flow.current(), Some(&study.items[i]));
            let answer = flow.rate(n as u8 + 1, Some(100.0)).unwrap();
            assert_eq!(answer.item, i);
            assert_eq!(
                (answer.rating.image.as_str(), answer.rating.score),
                (study.items[i].image.as_str(), n as u8 + 1)
            );
        }
        assert_eq!(flow.stage(), RatingStage::Finished);
        assert_eq!(flow.current(), None);
        assert_eq!(flow.rate(4, None), None, "nothing to rate once finished");
        assert_eq!(flow.session().ratings.len(), 3);
    }

    #[test]
    fn without_a_practice_picture_the_trials_start_at_once() {
        let mut flow = RatingFlow::open(study(2, false), "bo", None).unwrap();
        flow.begin();
        assert_eq!(flow.stage(), RatingStage::Trial);
    }

    #[test]
    fn undo_shows_the_last_picture_again_even_from_the_finished_screen() {
        let study = study(2, false);
        let mut flow = RatingFlow::open(study.clone(), "cy", None).unwrap();
        assert_eq!(flow.undo(), None, "nothing to take back");
        flow.begin();
        let first = flow.current().cloned();
        flow.rate(2, None).unwrap();
        let second = flow.current().cloned();
        flow.rate(4, None).unwrap();
        assert_eq!(flow.stage(), RatingStage::Finished);
        assert_eq!(flow.undo().map(|r| r.score), Some(4));
        assert_eq!((flow.stage(), flow.current().cloned()), (RatingStage::Trial, second));
        assert_eq!(flow.undo().map(|r| r.score), Some(2));
        assert_eq!(flow.current().cloned(), first);
        assert_eq!(flow.undo(), None);
        assert_eq!(flow.rate(0, None), None, "0 is not on the scale");
        assert_eq!(flow.rate(6, None), None, "6 is not on the scale");
        assert_eq!(flow.answered(), 0);
    }

    #[test]
    fn a_stored_session_resumes_where_it_stopped_and_a_foreign_one_is_refused() {
        let study = study(3, true);
        let mut flow = RatingFlow::open(study.clone(), "di", None).unwrap();
        flow.begin();
        flow.rate(1, None);
        flow.rate(3, None).unwrap();
        let stored = flow.session().clone();
        let resumed = RatingFlow::open(study.clone(), "di", Some(stored.clone())).unwrap();
        assert_eq!((resumed.stage(), resumed.answered()), (RatingStage::Trial, 1));
        assert_eq!(resumed.current(), flow.current());

        // Another rater's answers come in another order: not a prefix of this rater's.
        let other = (0..20).map(|n| format!("r{n}")).find(|r| study.trial_order(r)[0] != study.trial_order("di")[0]);
        let other = other.expect("some rater starts elsewhere");
        let err =
            RatingFlow::open(study.clone(), &other, Some(RaterSession { rater: other.clone(), ..stored.clone() }));
        assert_eq!(err.unwrap_err(), OpenError::StoredSessionMismatch { rater: other });
        let err = RatingFlow::open(study.clone(), "di", Some(RaterSession { study: "x".into(), ..stored }));
        assert!(err.is_err(), "a session of another study");
    }

    #[test]
    fn a_complete_stored_session_opens_finished() {
        let study = study(2, false);
        let mut flow = RatingFlow::open(study.clone(), "ed", None).unwrap();
        flow.begin();
        flow.rate(5, None);
        flow.rate(5, None);
        let reopened = RatingFlow::open(study, "ed", Some(flow.session().clone())).unwrap();
        assert_eq!(reopened.stage(), RatingStage::Finished);
    }

    #[test]
    fn the_server_session_is_the_answered_prefix_of_the_order() {
        let study = study(4, false);
        let order = study.trial_order("fa");
        let answer = |i: usize, score| ServerAnswer { item: order[i], score, ms: Some(1.0) };
        let session = RatingFlow::session_from_server(&study, "fa", &[answer(1, 4), answer(0, 2), answer(3, 5)]);
        // The third in order is missing, so the fourth is not part of the session.
        let scores: Vec<u8> = session.ratings.iter().map(|r| r.score).collect();
        assert_eq!(scores, [2, 4]);
        assert_eq!(session.ratings[0].image, study.items[order[0]].image);
        let flow = RatingFlow::open(study.clone(), "fa", Some(session)).unwrap();
        assert_eq!(flow.current(), Some(&study.items[order[2]]));
    }

    #[test]
    fn rater_ids_are_trimmed_and_bounded() {
        assert_eq!(rater_id("  ann "), Ok("ann".into()));
        assert_eq!(rater_id("   "), Err(OpenError::RaterEmpty));
        assert_eq!(rater_id(&"é".repeat(64)), Ok("é".repeat(64)));
        assert_eq!(rater_id(&"é".repeat(65)), Err(OpenError::RaterTooLong { max: 64 }));
    }
}
