//! The rating page: a rater enters an id, reads a short instruction, rates one training trial,
//! then every item of the study in an order seeded by their id, the method hidden and the
//! hidden reference among the trials, on the ACR scale 1–5 by buttons or keys 1–5. Every
//! answer is stored at once (see `storage`); a reload resumes at the same trial; the finished
//! session is exported as JSON or CSV. Served by `srkd serve`, each answer is also sent to the
//! server as it is given (`sync`). `#study-state` carries data-stage / data-trial / data-total /
//! data-rater / data-ready / data-server / data-waiting for tests.

use std::sync::Arc;

use gloo_events::{EventListener, EventListenerOptions};
use srkd_core::study::rating::rater_id;
use srkd_core::study::{RatingFlow, RatingStage, Study, StudyItem};
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

/// Where the page is before a rater's session is open (then the session's stage rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageStage {
    Loading,
    Unavailable,
    Welcome,
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
    study: Option<Arc<Study>>,
    /// Folder of study.json: item urls are relative to it.
    base: String,
    page_stage: PageStage,
    rater_input: String,
    /// The open rater's way through the study (`None` on the welcome screen).
    flow: Option<RatingFlow>,
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
    fn stage(&self) -> Option<RatingStage> {
        self.flow.as_ref().map(RatingFlow::stage)
    }

    fn stage_id(&self) -> &'static str {
        match (&self.flow, self.page_stage) {
            (Some(flow), _) => flow.stage().id(),
            (None, PageStage::Loading) => "loading",
            (None, PageStage::Unavailable) => "unavailable",
            (None, PageStage::Welcome) => "welcome",
        }
    }

    fn trial_index(&self) -> usize {
        self.flow.as_ref().map_or(0, RatingFlow::answered)
    }

    fn current_item(&self) -> Option<&StudyItem> {
        self.flow.as_ref()?.current()
    }

    fn url(&self, item: &StudyItem) -> String {
        format!("{}{}", self.base, item.url)
    }

    /// Open (or resume) `rater`'s session and go to the stage where they left off.
    fn open_session(&mut self, rater: &str) -> Result<(), String> {
        let study = self.study.clone().ok_or("the study is not loaded")?;
        // Stored ratings that do not fit are kept untouched (exportable from the results
        // view), never overwritten.
        let flow =
            RatingFlow::open(study.clone(), rater, storage::load(&study.id, rater)).map_err(|e| e.to_string())?;
        if flow.answered() == 0 {
            storage::save(flow.session())?;
        }
        storage::set_active(&study.id, Some(rater))?;
        self.token = if self.server { sync::token(&study.id, rater) } else { None };
        self.waiting = if self.server { sync::queue(&study.id, rater).len() } else { 0 };
        if flow.stage() == RatingStage::Trial {
            let (done, total) = (flow.answered(), study.items.len());
            self.notice = Some(format!("Welcome back, {rater}: continuing at trial {} of {total}.", done + 1));
        }
        self.flow = Some(flow);
        self.shown_at = None;
        Ok(())
    }

    /// Rate the current picture; the answer is stored (and queued for the server) or not given.
    fn rate(&mut self, score: u8) -> Result<(), String> {
        let Some(shown_at) = self.shown_at else { return Ok(()) };
        let Some(flow) = self.flow.as_mut() else { return Ok(()) };
        let stage = flow.stage();
        let Some(answer) = flow.rate(score, Some((now_ms() - shown_at).round())) else {
            // Leaving the practice picture: the next one must load before it can be rated.
            if flow.stage() != stage {
                self.shown_at = None;
            }
            return Ok(());
        };
        // On failure the picture stays up (and ratable): the answer is taken back.
        if let Err(e) = storage::save(flow.session()) {
            flow.undo();
            return Err(e);
        }
        if self.token.is_some() {
            let (study, rater) = (flow.study().id.clone(), flow.session().rater.clone());
            let pending = Pending { item: answer.item, score, ms: answer.rating.ms };
            // Stored here but not queued would never reach the server: take it back instead.
            if let Err(e) = sync::enqueue(&study, &rater, pending) {
                flow.undo();
                storage::save(flow.session())?;
                return Err(e);
            }
            self.waiting = sync::queue(&study, &rater).len();
        }
        self.shown_at = None;
        self.notice = None;
        Ok(())
    }

    fn undo(&mut self) -> Result<(), String> {
        let Some(flow) = self.flow.as_mut() else { return Ok(()) };
        let Some(last) = flow.undo() else { return Ok(()) };
        if let Err(e) = storage::save(flow.session()) {
            // Not taken back in storage, so not taken back here either.
            flow.rate(last.score, last.ms);
            return Err(e);
        }
        self.shown_at = None;
        self.notice =
            Some(format!("Your rating of the previous picture ({}) was taken back; rate it again.", last.score));
        Ok(())
    }

    fn export(&self, csv: bool) {
        let Some(session) = self.flow.as_ref().map(RatingFlow::session) else { return };
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
            page_stage: PageStage::Loading,
            rater_input: String::new(),
            flow: None,
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
                self.study = Some(Arc::new(study));
                self.server = server;
                self.page_stage = PageStage::Welcome;
                ctx.link().send_message(Msg::Flush);
                match active {
                    Some(rater) => self.open_session(&rater),
                    None => Ok(()),
                }
            }
            Msg::Loaded(Err(e)) => {
                self.page_stage = PageStage::Unavailable;
                Err(format!("The study could not be loaded: {e}"))
            }
            Msg::RaterInput(text) => {
                self.rater_input = text;
                Ok(())
            }
            Msg::Start => match rater_id(&self.rater_input) {
                Err(e) => Err(e.to_string()),
                Ok(rater)
                    if self.server && self.study.as_ref().is_some_and(|s| sync::token(&s.id, &rater).is_none()) =>
                {
                    let study = self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default();
                    ctx.link().send_future(async move {
                        let registered = sync::register(&study, &rater).await;
                        Msg::Registered(rater, registered)
                    });
                    Ok(())
                }
                Ok(rater) => {
                    ctx.link().send_message(Msg::Flush);
                    self.open_session(&rater)
                }
            },
            Msg::BeginTraining => {
                self.shown_at = None;
                if let Some(flow) = self.flow.as_mut() {
                    flow.begin();
                }
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
            Msg::Rate(score) if matches!(self.stage(), Some(RatingStage::Training | RatingStage::Trial)) => {
                ctx.link().send_message(Msg::Flush);
                self.rate(score)
            }
            Msg::Rate(_) => return false,
            Msg::Undo if matches!(self.stage(), Some(RatingStage::Trial | RatingStage::Finished)) => self.undo(),
            Msg::Undo => return false,
            Msg::Export { csv } => {
                self.export(csv);
                return false;
            }
            Msg::NewRater => {
                let study = self.study.as_ref().map(|s| s.id.clone()).unwrap_or_default();
                storage::set_active(&study, None).map(|_| {
                    self.flow = None;
                    self.token = None;
                    self.waiting = 0;
                    self.rater_input.clear();
                    self.notice = None;
                    self.page_stage = PageStage::Welcome;
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
                data-stage={self.stage_id()}
                data-trial={trial.to_string()}
                data-total={total.to_string()}
                data-rater={self.flow.as_ref().map(|f| f.session().rater.clone()).unwrap_or_default()}
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
        let body = match (self.stage(), self.page_stage) {
            (None, PageStage::Loading) => html! { <p>{ "Loading the study…" }</p> },
            (None, PageStage::Unavailable) => html! {},
            (None, PageStage::Welcome) => self.view_welcome(ctx),
            (Some(RatingStage::Instructions), _) => html! {
                <section class="instructions">
                    <h2>{ "How to rate" }</h2>
                    <p>{ "You will see one picture at a time. Rate its quality as a photograph on a five-point scale: 5 Excellent, 4 Good, 3 Fair, 2 Poor, 1 Bad. Judge sharpness, natural texture and artefacts (ringing, noise, false patterns). Some pictures may be perfect; rate them as you see them." }</p>
                    <p>{ "Click a button or press the keys 1–5. Backspace takes back your last rating. Use 1:1 or 2× to inspect details and drag to pan. There is no time limit, but your first impression is what we want." }</p>
                    <p>{ "First, one practice picture (its rating is not recorded)." }</p>
                    <button id="begin" onclick={link.callback(|_| Msg::BeginTraining)}>{ "Show the practice picture" }</button>
                </section>
            },
            (Some(RatingStage::Training | RatingStage::Trial), _) => self.view_trial(ctx),
            (Some(RatingStage::Finished), _) => self.view_finished(ctx),
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
