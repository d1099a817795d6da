//! The rating page: a rater enters an id, reads a short instruction, rates one training trial,
//! then every item of the study in an order seeded by their id, the method hidden and the
//! hidden reference among the trials, on the ACR scale 1–5 by buttons or keys 1–5. Every
//! answer is stored at once (see `storage`); a reload resumes at the same trial; the finished
//! session is exported as JSON or CSV. Served by `srkd serve`, each answer is also sent to the
//! server as it is given (`sync`). `#study-state` carries data-stage / data-trial / data-total /
//! data-rater / data-ready / data-server / data-waiting for tests.

use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use srkd_core::study::{RaterSession, Rating};
use srkd_core::study::{Study, StudyItem};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

use super::storage;
use super::sync::{self, Flushed, Pending};
use crate::browser::{download_text, fetch_bytes, now_ms, query_param};

mod server;
mod view;

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
    /// The study, and whether `srkd serve` served it.
    Loaded(Result<(Study, bool), String>),
    RaterInput(String),
    Start,
    Registered(String, Result<Option<String>, String>),
    ResumeInput(String),
    Resume,
    Resumed(Result<(String, String, Vec<Pending>), String>),
    Flush,
    Flushed(Flushed),
    BeginTraining,
    Shown,
    Rate(u8),
    Undo,
    Export {
        csv: bool,
    },
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
    /// Served by `srkd serve`: answers go to the server too.
    server: bool,
    /// The current rater's server token (= resume code).
    token: Option<String>,
    resume_input: String,
    /// Answers not yet acknowledged by the server.
    waiting: usize,
    flushing: bool,
    retry_ms: u32,
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
        self.token = if self.server { sync::token(&study.id, rater) } else { None };
        self.waiting = if self.server { sync::queue(&study.id, rater).len() } else { 0 };
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
        let index = self.order.get(session.ratings.len()).copied().ok_or("no trial to rate")?;
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
        if self.token.is_some() {
            let ms = session.ratings.last().and_then(|r| r.ms);
            // Stored here but not queued would never reach the server: take it back instead.
            if let Err(e) = sync::enqueue(&study.id, &session.rater, Pending { item: index, score, ms }) {
                session.ratings.pop();
                storage::save(session)?;
                return Err(e);
            }
            self.waiting = sync::queue(&study.id, &session.rater).len();
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
            // Only a study from the page's own origin can have been served with the page.
            let same_origin = !url.contains("://");
            let server = loaded.is_ok() && same_origin && sync::server_present().await;
            Msg::Loaded(loaded.map(|study| (study, server)))
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
            server: false,
            token: None,
            resume_input: String::new(),
            waiting: 0,
            flushing: false,
            retry_ms: 1000,
            _keys: keys,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        let result = match msg {
            Msg::Loaded(Ok((study, server))) => {
                let active = storage::active_rater(&study.id);
                self.study = Some(Rc::new(study));
                self.server = server;
                self.stage = Stage::Welcome;
                ctx.link().send_message(Msg::Flush);
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
                } else if self.server && self.study.as_ref().is_some_and(|s| sync::token(&s.id, &rater).is_none()) {
                    let study = self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default();
                    ctx.link().send_future(async move {
                        let registered = sync::register(&study, &rater).await;
                        Msg::Registered(rater, registered)
                    });
                    Ok(())
                } else {
                    ctx.link().send_message(Msg::Flush);
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
            msg @ (Msg::Registered(..)
            | Msg::ResumeInput(_)
            | Msg::Resume
            | Msg::Resumed(_)
            | Msg::Flush
            | Msg::Flushed(_)) => match self.on_server_message(ctx, msg) {
                Some(result) => result,
                None => return true,
            },
            Msg::Rate(score) if matches!(self.stage, Stage::Training | Stage::Trial) => {
                ctx.link().send_message(Msg::Flush);
                self.rate(score)
            }
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
                    self.token = None;
                    self.waiting = 0;
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
                data-ready={if self.shown_at.is_some() { "1" } else { "0" }}
                data-server={if self.token.is_some() { "1" } else { "0" }}
                data-waiting={self.waiting.to_string()} />
        };
        let sync_status = self.token.as_ref().map(|token| {
            let text = match self.waiting {
                0 => "Every answer is saved on the study server.".to_string(),
                n => format!("Offline — {n} answers waiting; they are sent as soon as the server can be reached."),
            };
            html! {
                <p id="sync-status" class={classes!("hint", (self.waiting > 0).then_some("offline"))}>
                    { text }{ " Resume code (to continue on another device): " }<code id="resume-code">{ token }</code>
                </p>
            }
        });
        let error = self.error.as_ref().map(|e| html! { <div id="study-error" class="error" role="alert">{ e }</div> });
        let notice = self.notice.as_ref().map(|n| html! { <p class="notice">{ n }</p> });
        let body = match self.stage {
            Stage::Loading => html! { <p>{ "Loading the study…" }</p> },
            Stage::Unavailable => html! {},
            Stage::Welcome => self.view_welcome(ctx),
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
            Stage::Finished => self.view_finished(ctx),
        };
        html! {
            <div class="page study">
                <header><h1>{ "Rating study" }<small>{ " · absolute category rating with a hidden reference (DMOS)" }</small></h1></header>
                { state }
                { for error }
                { for notice }
                { for sync_status }
                { body }
            </div>
        }
    }
}
