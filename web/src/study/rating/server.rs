//! The rating page's side of `srkd serve` (see `sync`): registering, resuming from a code,
//! and sending the answer queue with backoff while the server cannot be reached.

use yew::prelude::*;

use super::{Msg, RatingPage};
use crate::study::storage;
use crate::study::sync::{self, Pending};
use srkd_core::study::{RatingFlow, ServerAnswer};

impl RatingPage {
    /// `Some(result)` sets the page's error line from `result`; `None` leaves it as it is.
    pub(super) fn on_server_message(&mut self, ctx: &Context<Self>, msg: Msg) -> Option<Result<(), String>> {
        let result = match msg {
            Msg::Registered(rater, Ok(Some(token))) => {
                let study = self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default();
                sync::save_token(&study, &rater, &token).and_then(|_| self.open_session(&rater))
            }
            Msg::Registered(rater, Ok(None)) => Err(format!(
                "The rater id “{rater}” is already registered on this server. If it is yours, enter your resume code below; otherwise choose another id."
            )),
            Msg::Registered(_, Err(e)) => Err(format!("The study server could not register you: {e}")),
            Msg::ResumeInput(text) => {
                self.resume_input = text;
                Ok(())
            }
            Msg::Resume => {
                let study = self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default();
                let code = self.resume_input.trim().to_string();
                ctx.link().send_future(async move {
                    Msg::Resumed(sync::resume(&study, &code).await.map(|(rater, answers)| (rater, code, answers)))
                });
                Ok(())
            }
            Msg::Resumed(Ok((rater, code, answers))) => self.resume_from_server(&rater, &code, &answers),
            Msg::Resumed(Err(e)) => Err(e),
            Msg::Flush => {
                let (Some(flow), Some(token)) = (&self.flow, &self.token) else {
                    return None;
                };
                if self.flushing {
                    return None;
                }
                self.flushing = true;
                let (study, rater, token) = (flow.study().id.clone(), flow.session().rater.clone(), token.clone());
                ctx.link().send_future(async move { Msg::Flushed(sync::flush(&study, &rater, &token).await) });
                return None;
            }
            Msg::Flushed(flushed) => {
                self.flushing = false;
                self.waiting = flushed.waiting;
                if flushed.waiting > 0 {
                    // Offline or the server is down: try again, waiting longer each time (≤ 8 s).
                    let delay = self.retry_ms;
                    self.retry_ms = (self.retry_ms * 2).min(8000);
                    ctx.link().send_future(async move {
                        crate::browser::sleep_ms(delay).await;
                        Msg::Flush
                    });
                } else {
                    self.retry_ms = 1000;
                }
                match flushed.refused {
                    Some(e) => Err(e),
                    None => return None,
                }
            }
            _ => return None,
        };
        Some(result)
    }

    /// Continue `rater`'s session from what the server holds (resume code typed on another
    /// device): the answered prefix of their trial order, unless this browser has more.
    fn resume_from_server(&mut self, rater: &str, code: &str, answers: &[Pending]) -> Result<(), String> {
        let study = self.study.clone().ok_or("the study is not loaded")?;
        sync::save_token(&study.id, rater, code)?;
        let local = storage::load(&study.id, rater).map_or(0, |s| s.ratings.len());
        let answers: Vec<ServerAnswer> =
            answers.iter().map(|a| ServerAnswer { item: a.item, score: a.score, ms: a.ms }).collect();
        let held = RatingFlow::session_from_server(&study, rater, &answers);
        if held.ratings.len() > local {
            storage::save(&held)?;
        }
        self.open_session(rater)
    }
}
