//! What the rating page shows at each stage (the state is `srkd_core::study::RatingFlow`, driven from `rating.rs`).

use web_sys::HtmlInputElement;
use yew::prelude::*;

use srkd_core::study::RatingStage;
use srkd_core::study::rating::MAX_RATER_LEN;

use super::{LABELS, Msg, RatingPage};
use crate::study::viewer::Viewer;

impl RatingPage {
    pub(super) fn view_welcome(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let total = self.study.as_ref().map_or(0, |s| s.items.len());
        let oninput =
            link.callback(|e: InputEvent| Msg::RaterInput(e.target_unchecked_into::<HtmlInputElement>().value()));
        let onsubmit = link.callback(|e: SubmitEvent| {
            e.prevent_default();
            Msg::Start
        });
        html! {
            <>
            <form class="welcome" onsubmit={onsubmit}>
                <p>{ format!("{} — {} pictures to rate, about {} minutes.", self.study.as_ref().map(|s| s.title.as_str()).unwrap_or(""), total, (total * 8).div_ceil(60).max(1)) }</p>
                <label>{ "Your rater id " }
                    <input id="rater-id" type="text" maxlength={MAX_RATER_LEN.to_string()} value={self.rater_input.clone()} oninput={oninput} autofocus=true />
                </label>
                <button id="start" type="submit">{ "Start" }</button>
                if self.server {
                    <p class="hint">{ "Your answers are sent to the study server as you give them (and kept in this browser until it has them)." }</p>
                } else {
                    <p class="hint">{ "Use the same id to continue a session later in this browser. Your answers stay in this browser until you export them." }</p>
                }
            </form>
            if self.server {
                <form class="welcome" onsubmit={link.callback(|e: SubmitEvent| { e.prevent_default(); Msg::Resume })}>
                    <label>{ "Continuing from another device? Resume code " }
                        <input id="resume-input" type="text" maxlength="40" value={self.resume_input.clone()}
                            oninput={link.callback(|e: InputEvent| Msg::ResumeInput(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                    </label>
                    <button id="resume" type="submit">{ "Continue" }</button>
                </form>
            }
            </>
        }
    }

    pub(super) fn view_finished(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let total = self.study.as_ref().map_or(0, |s| s.items.len());
        let rater = self.flow.as_ref().map(|f| f.session().rater.clone()).unwrap_or_default();
        html! {
            <section class="finished">
                <h2>{ format!("Thank you, {rater} — all {total} pictures rated.") }</h2>
                if self.token.is_some() {
                    <p>{ "Your ratings go to the study server (see below when they are all there); nothing to send. A copy stays in this browser." }</p>
                } else {
                    <p>{ "Export your ratings and send the file to the person running the study. They are also kept in this browser." }</p>
                }
                <div class="controls">
                    <button id="export-json" onclick={link.callback(|_| Msg::Export { csv: false })}>{ "Export JSON" }</button>
                    <button id="export-csv" onclick={link.callback(|_| Msg::Export { csv: true })}>{ "Export CSV" }</button>
                    <button id="undo" onclick={link.callback(|_| Msg::Undo)}>{ "Take back the last rating" }</button>
                    <button id="new-rater" onclick={link.callback(|_| Msg::NewRater)}>{ "Next rater" }</button>
                    <a class="button" href="#results">{ "See DMOS results" }</a>
                </div>
            </section>
        }
    }

    pub(super) fn view_trial(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let Some(item) = self.current_item() else { return html! {} };
        let total = self.study.as_ref().map_or(0, |s| s.items.len());
        let trial = self.trial_index();
        let training = self.stage() == Some(RatingStage::Training);
        let ready = self.shown_at.is_some();
        // The next picture loads in the background so the following trial appears at once.
        let next = self.flow.as_ref().and_then(|f| f.next()).map(|i| self.url(i));
        html! {
            <section class="trial">
                <div class="trial-head">
                    if training {
                        <strong>{ "Practice picture (not recorded)" }</strong>
                    } else {
                        <strong id="progress-text">{ format!("Picture {} of {}", trial + 1, total) }</strong>
                        <progress max={total.to_string()} value={trial.to_string()} />
                    }
                    <button id="undo" disabled={training || trial == 0} onclick={link.callback(|_| Msg::Undo)}>{ "← Back" }</button>
                    <span class="tag">{ "Keys 1–5 rate, Backspace goes back." }</span>
                </div>
                <div class="scale">
                    { for (1..=5u8).rev().map(|score| html! {
                        <button class="score" data-score={score.to_string()} disabled={!ready}
                            onclick={link.callback(move |_| Msg::Rate(score))}>
                            <b>{ score }</b>{ format!(" {}", LABELS[score as usize - 1]) }
                        </button>
                    }) }
                </div>
                <Viewer url={AttrValue::from(self.url(item))} trial={if training { usize::MAX } else { trial }} on_shown={link.callback(|_| Msg::Shown)} />
                if let Some(next) = next { <img class="preload" src={next} alt="" /> }
            </section>
        }
    }
}
