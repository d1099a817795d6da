//! The rating page: a rater enters an id, reads a short instruction, rates one training trial,
//! then every item of the study in an order seeded by their id, the method hidden and the
//! hidden reference among the trials, on the ACR scale 1–5 by buttons or keys 1–5. Every
//! answer is stored at once (see `storage`); a reload resumes at the same trial; the finished
//! session is exported as JSON or CSV. `#study-state` carries data-stage / data-trial /
//! data-total / data-rater / data-ready for tests.

use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use srkd_core::dmos::{RaterSession, Rating};
use srkd_core::study::{Study, StudyItem};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

use super::storage;
use super::viewer::Viewer;
use crate::browser::{download_text, fetch_bytes, now_ms, query_param};

/// The study shipped with the page (`srkd study export … --out web/study`).
const DEFAULT_STUDY: &str = "study/study.json";
/// ACR labels, index = score − 1.
const LABELS: [&str; 5] = ["Bad", "Poor", "Fair", "Good", "Excellent"];
const MAX_RATER_LEN: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Loading,
    Unavailable,
    Welcome,
    Instructions,
    Training,
    Trial,
    Finished,
}

impl Stage {
    fn id(self) -> &'static str {
        match self {
            Stage::Loading => "loading",
            Stage::Unavailable => "unavailable",
            Stage::Welcome => "welcome",
            Stage::Instructions => "instructions",
            Stage::Training => "training",
            Stage::Trial => "trial",
            Stage::Finished => "finished",
        }
    }
}

pub enum Msg {
    Loaded(Result<Study, String>),
    RaterInput(String),
    Start,
    BeginTraining,
    Shown,
    Rate(u8),
    Undo,
    Export { csv: bool },
    NewRater,
}

pub struct RatingPage {
    study: Option<Rc<Study>>,
    /// Folder of study.json: item urls are relative to it.
    base: String,
    stage: Stage,
    rater_input: String,
    session: Option<RaterSession>,
    order: Vec<usize>,
    /// When the current picture appeared (`None` until it has loaded: no rating before that).
    shown_at: Option<f64>,
    error: Option<String>,
    notice: Option<String>,
    _keys: EventListener,
}

impl RatingPage {
    fn trial_index(&self) -> usize {
        self.session.as_ref().map_or(0, |s| s.ratings.len())
    }

    fn current_item(&self) -> Option<&StudyItem> {
        let study = self.study.as_ref()?;
        match self.stage {
            Stage::Training => study.training.as_ref(),
            Stage::Trial => self.order.get(self.trial_index()).map(|&i| &study.items[i]),
            _ => None,
        }
    }

    fn url(&self, item: &StudyItem) -> String {
        format!("{}{}", self.base, item.url)
    }

    /// Open (or resume) `rater`'s session and go to the stage where they left off.
    fn open_session(&mut self, rater: &str) -> Result<(), String> {
        let study = self.study.clone().ok_or("the study is not loaded")?;
        let order = study.trial_order(rater);
        let session = match storage::load(&study.id, rater) {
            Some(stored) => {
                // Stored ratings must be this study's trials in this rater's order; anything
                // else is kept untouched (exportable from the results view), never overwritten.
                let fits = stored.ratings.len() <= study.items.len()
                    && stored
                        .ratings
                        .iter()
                        .zip(&order)
                        .all(|(r, &i)| r.image == study.items[i].image && r.method == study.items[i].method);
                if !fits {
                    return Err(format!(
                        "The ratings stored for “{rater}” do not match this study, so they were left as they are. Use another rater id, or export them from DMOS results first."
                    ));
                }
                stored
            }
            None => {
                let fresh = RaterSession { rater: rater.to_string(), study: study.id.clone(), ratings: Vec::new() };
                storage::save(&fresh)?;
                fresh
            }
        };
        storage::set_active(&study.id, Some(rater))?;
        self.order = order;
        let done = session.ratings.len();
        self.stage = if done == study.items.len() {
            Stage::Finished
        } else if done > 0 {
            self.notice =
                Some(format!("Welcome back, {rater}: continuing at trial {} of {}.", done + 1, study.items.len()));
            Stage::Trial
        } else {
            Stage::Instructions
        };
        self.session = Some(session);
        self.shown_at = None;
        Ok(())
    }

    fn rate(&mut self, score: u8) -> Result<(), String> {
        let Some(shown_at) = self.shown_at else { return Ok(()) };
        if self.stage == Stage::Training {
            self.stage = Stage::Trial;
            self.shown_at = None;
            return Ok(());
        }
        let study = self.study.clone().ok_or("the study is not loaded")?;
        let item = self.current_item().cloned().ok_or("no trial to rate")?;
        let session = self.session.as_mut().ok_or("no rater")?;
        session.ratings.push(Rating {
            image: item.image,
            method: item.method,
            score,
            ms: Some((now_ms() - shown_at).round()),
        });
        if let Err(e) = storage::save(session) {
            session.ratings.pop();
            return Err(e);
        }
        self.notice = None;
        self.shown_at = None;
        if session.ratings.len() == study.items.len() {
            self.stage = Stage::Finished;
        }
        Ok(())
    }

    fn undo(&mut self) -> Result<(), String> {
        let Some(session) = self.session.as_mut() else { return Ok(()) };
        let Some(last) = session.ratings.pop() else { return Ok(()) };
        if let Err(e) = storage::save(session) {
            session.ratings.push(last);
            return Err(e);
        }
        self.stage = Stage::Trial;
        self.shown_at = None;
        self.notice =
            Some(format!("Your rating of the previous picture ({}) was taken back; rate it again.", last.score));
        Ok(())
    }

    fn export(&self, csv: bool) {
        let Some(session) = &self.session else { return };
        let stem = format!(
            "ratings-{}-{}",
            session.study,
            session.rater.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
        );
        if csv {
            download_text(&session.to_csv(), "text/csv", &format!("{stem}.csv"));
        } else {
            let json = serde_json::to_string_pretty(session).unwrap_or_default();
            download_text(&json, "application/json", &format!("{stem}.json"));
        }
    }
}

impl Component for RatingPage {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let url = query_param("study").unwrap_or_else(|| DEFAULT_STUDY.to_string());
        let base = url.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default();
        ctx.link().send_future(async move {
            let loaded = match fetch_bytes(&url).await {
                Ok(bytes) => String::from_utf8(bytes)
                    .map_err(|_| format!("{url}: not UTF-8 text"))
                    .and_then(|text| Study::parse(&url, &text).map_err(|e| e.to_string())),
                Err(e) => Err(e),
            };
            Msg::Loaded(loaded)
        });
        let link = ctx.link().clone();
        let document = web_sys::window().and_then(|w| w.document()).expect("the page has a document");
        let keys = EventListener::new_with_options(
            &document,
            "keydown",
            EventListenerOptions::enable_prevent_default(),
            move |event| {
                let Some(event) = event.dyn_ref::<KeyboardEvent>() else { return };
                // Typing the rater id must not rate anything.
                let in_field = event.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()).is_some();
                if in_field || event.ctrl_key() || event.meta_key() || event.alt_key() {
                    return;
                }
                match event.key().as_str() {
                    k @ ("1" | "2" | "3" | "4" | "5") => link.send_message(Msg::Rate(k.parse().unwrap_or(3))),
                    "Backspace" => {
                        event.prevent_default();
                        link.send_message(Msg::Undo);
                    }
                    _ => {}
                }
            },
        );
        RatingPage {
            study: None,
            base,
            stage: Stage::Loading,
            rater_input: String::new(),
            session: None,
            order: Vec::new(),
            shown_at: None,
            error: None,
            notice: None,
            _keys: keys,
        }
    }

    fn update(&mut self, _ctx: &Context<Self>, msg: Self::Message) -> bool {
        let result = match msg {
            Msg::Loaded(Ok(study)) => {
                let active = storage::active_rater(&study.id);
                self.study = Some(Rc::new(study));
                self.stage = Stage::Welcome;
                match active {
                    Some(rater) => self.open_session(&rater),
                    None => Ok(()),
                }
            }
            Msg::Loaded(Err(e)) => {
                self.stage = Stage::Unavailable;
                Err(format!("The study could not be loaded: {e}"))
            }
            Msg::RaterInput(text) => {
                self.rater_input = text;
                Ok(())
            }
            Msg::Start => {
                let rater = self.rater_input.trim().to_string();
                if rater.is_empty() {
                    Err("Enter a rater id (a name or a code) first.".into())
                } else if rater.chars().count() > MAX_RATER_LEN {
                    Err(format!("A rater id has at most {MAX_RATER_LEN} characters."))
                } else {
                    self.open_session(&rater)
                }
            }
            Msg::BeginTraining => {
                self.shown_at = None;
                self.stage = if self.study.as_ref().is_some_and(|s| s.training.is_some()) {
                    Stage::Training
                } else {
                    Stage::Trial
                };
                Ok(())
            }
            Msg::Shown => {
                self.shown_at = Some(now_ms());
                Ok(())
            }
            Msg::Rate(score) if matches!(self.stage, Stage::Training | Stage::Trial) => self.rate(score),
            Msg::Rate(_) => return false,
            Msg::Undo if self.stage == Stage::Trial || self.stage == Stage::Finished => self.undo(),
            Msg::Undo => return false,
            Msg::Export { csv } => {
                self.export(csv);
                return false;
            }
            Msg::NewRater => {
                let study = self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default();
                storage::set_active(&study, None).map(|_| {
                    self.session = None;
                    self.rater_input.clear();
                    self.notice = None;
                    self.stage = Stage::Welcome;
                })
            }
        };
        self.error = result.err();
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let total = self.study.as_ref().map_or(0, |s| s.items.len());
        let trial = self.trial_index();
        let state = html! {
            <div id="study-state" hidden=true
                data-stage={self.stage.id()}
                data-trial={trial.to_string()}
                data-total={total.to_string()}
                data-rater={self.session.as_ref().map(|s| s.rater.clone()).unwrap_or_default()}
                data-study={self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default()}
                data-url={self.current_item().map(|i| self.url(i)).unwrap_or_default()}
                data-ready={if self.shown_at.is_some() { "1" } else { "0" }} />
        };
        let error = self.error.as_ref().map(|e| html! { <div id="study-error" class="error" role="alert">{ e }</div> });
        let notice = self.notice.as_ref().map(|n| html! { <p class="notice">{ n }</p> });
        let body = match self.stage {
            Stage::Loading => html! { <p>{ "Loading the study…" }</p> },
            Stage::Unavailable => html! {},
            Stage::Welcome => {
                let oninput = link
                    .callback(|e: InputEvent| Msg::RaterInput(e.target_unchecked_into::<HtmlInputElement>().value()));
                let onsubmit = link.callback(|e: SubmitEvent| {
                    e.prevent_default();
                    Msg::Start
                });
                html! {
                    <form class="welcome" onsubmit={onsubmit}>
                        <p>{ format!("{} — {} pictures to rate, about {} minutes.", self.study.as_ref().map(|s| s.title.as_str()).unwrap_or(""), total, (total * 8).div_ceil(60).max(1)) }</p>
                        <label>{ "Your rater id " }
                            <input id="rater-id" type="text" maxlength={MAX_RATER_LEN.to_string()} value={self.rater_input.clone()} oninput={oninput} autofocus=true />
                        </label>
                        <button id="start" type="submit">{ "Start" }</button>
                        <p class="hint">{ "Use the same id to continue a session later in this browser. Your answers stay in this browser until you export them." }</p>
                    </form>
                }
            }
            Stage::Instructions => html! {
                <section class="instructions">
                    <h2>{ "How to rate" }</h2>
                    <p>{ "You will see one picture at a time. Rate its quality as a photograph on a five-point scale: 5 Excellent, 4 Good, 3 Fair, 2 Poor, 1 Bad. Judge sharpness, natural texture and artefacts (ringing, noise, false patterns). Some pictures may be perfect; rate them as you see them." }</p>
                    <p>{ "Click a button or press the keys 1–5. Backspace takes back your last rating. Use 1:1 or 2× to inspect details and drag to pan. There is no time limit, but your first impression is what we want." }</p>
                    <p>{ "First, one practice picture (its rating is not recorded)." }</p>
                    <button id="begin" onclick={link.callback(|_| Msg::BeginTraining)}>{ "Show the practice picture" }</button>
                </section>
            },
            Stage::Training | Stage::Trial => self.view_trial(ctx),
            Stage::Finished => {
                let rater = self.session.as_ref().map(|s| s.rater.clone()).unwrap_or_default();
                html! {
                    <section class="finished">
                        <h2>{ format!("Thank you, {rater} — all {total} pictures rated.") }</h2>
                        <p>{ "Export your ratings and send the file to the person running the study. They are also kept in this browser." }</p>
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
        };
        html! {
            <div class="page study">
                <header><h1>{ "Rating study" }<small>{ " · absolute category rating with a hidden reference (DMOS)" }</small></h1></header>
                { state }
                { for error }
                { for notice }
                { body }
            </div>
        }
    }
}

impl RatingPage {
    fn view_trial(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let Some(item) = self.current_item() else { return html! {} };
        let total = self.study.as_ref().map_or(0, |s| s.items.len());
        let trial = self.trial_index();
        let training = self.stage == Stage::Training;
        let ready = self.shown_at.is_some();
        // The next picture loads in the background so the following trial appears at once.
        let next = (!training)
            .then(|| self.order.get(trial + 1))
            .flatten()
            .and_then(|&i| self.study.as_ref().map(|s| self.url(&s.items[i])));
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
