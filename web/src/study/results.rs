//! The results view: import any number of rater files (JSON or CSV; picker or drag & drop) or
//! the sessions stored in this browser, and see the paper's Table 3 layout (rows = methods,
//! columns = images, best per image highlighted) with 95% confidence intervals, the BT.500
//! screening verdicts and exclusions — computed by `srkd_core::study`, the same code as
//! `srkd dmos`. A bad file is refused with its name; what was imported stays.

use srkd_core::study::{DmosOptions, DmosTable, REFERENCE_SANITY_LABEL, RaterSession, check_sessions, compute_dmos};
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

use super::storage;
use crate::browser::{download_text, read_file};

pub enum Msg {
    Open(Vec<File>),
    Read(Vec<(String, Result<Vec<u8>, String>)>),
    FromBrowser,
    Remove(usize),
    ToggleOutliers,
    Export { csv: bool },
    Clear,
}

#[derive(Default)]
pub struct ResultsPage {
    /// (where it came from, session), in import order.
    sessions: Vec<(String, RaterSession)>,
    errors: Vec<String>,
    exclude_outliers: bool,
    table: Option<Result<DmosTable, String>>,
}

impl ResultsPage {
    /// Add `session` unless it is malformed for this set (other study, rater already present).
    fn add(&mut self, source: String, session: RaterSession) -> Result<(), String> {
        let mut candidate = self.sessions.clone();
        candidate.push((source, session));
        check_sessions(&candidate).map_err(|e| e.to_string())?;
        self.sessions = candidate;
        Ok(())
    }

    fn recompute(&mut self) {
        self.table = (!self.sessions.is_empty()).then(|| {
            let sessions: Vec<RaterSession> = self.sessions.iter().map(|(_, s)| s.clone()).collect();
            compute_dmos(&sessions, DmosOptions { exclude_outliers: self.exclude_outliers }).map_err(|e| e.to_string())
        });
    }
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default()
}

impl Component for ResultsPage {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        Self::default()
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        match msg {
            Msg::Open(files) => {
                ctx.link().send_future(async move {
                    let mut read = Vec::new();
                    for file in files {
                        read.push((file.name(), read_file(&file).await));
                    }
                    Msg::Read(read)
                });
                return false;
            }
            Msg::Read(files) => {
                self.errors.clear();
                for (name, bytes) in files {
                    let parsed = bytes
                        .and_then(|b| String::from_utf8(b).map_err(|_| format!("{name}: not UTF-8 text")))
                        .and_then(|text| RaterSession::parse(&name, &text).map_err(|e| e.to_string()))
                        .and_then(|session| self.add(name.clone(), session));
                    if let Err(e) = parsed {
                        self.errors.push(e);
                    }
                }
            }
            Msg::FromBrowser => {
                self.errors.clear();
                let stored = storage::all_sessions();
                if stored.is_empty() {
                    self.errors.push("No rating sessions are stored in this browser.".into());
                }
                for session in stored {
                    let source = format!("this browser: {} / {}", session.study, session.rater);
                    if self.sessions.iter().any(|(s, _)| *s == source) {
                        continue;
                    }
                    if let Err(e) = self.add(source, session) {
                        self.errors.push(e);
                    }
                }
            }
            Msg::Remove(index) => {
                if index < self.sessions.len() {
                    self.sessions.remove(index);
                }
            }
            Msg::ToggleOutliers => self.exclude_outliers = !self.exclude_outliers,
            Msg::Export { csv } => {
                if let Some(Ok(table)) = &self.table {
                    if csv {
                        download_text(&table.to_csv(), "text/csv", &format!("dmos-{}.csv", table.study));
                    } else {
                        let json = serde_json::to_string_pretty(table).unwrap_or_default();
                        download_text(&json, "application/json", &format!("dmos-{}.json", table.study));
                    }
                }
                return false;
            }
            Msg::Clear => {
                self.sessions.clear();
                self.errors.clear();
            }
        }
        self.recompute();
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let on_pick = link.callback(|e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let files = files_of(input.files());
            input.set_value("");
            Msg::Open(files)
        });
        let on_drop = link.callback(|e: DragEvent| {
            e.prevent_default();
            Msg::Open(files_of(e.data_transfer().and_then(|d| d.files())))
        });
        let on_drag_over = Callback::from(|e: DragEvent| e.prevent_default());
        html! {
            <div class="page results" ondrop={on_drop} ondragover={on_drag_over}>
                <header><h1>{ "DMOS results" }<small>{ " · the paper's Table 3 from rater files" }</small></h1></header>
                <section class="controls">
                    <label class="button">{ "Import rating files…" }
                        <input id="import" type="file" multiple=true accept=".json,.csv,application/json,text/csv" onchange={on_pick} />
                    </label>
                    <button id="from-browser" onclick={link.callback(|_| Msg::FromBrowser)}>{ "Add sessions stored in this browser" }</button>
                    <label><input id="exclude-outliers" type="checkbox" checked={self.exclude_outliers} onchange={link.callback(|_| Msg::ToggleOutliers)} />{ " leave out BT.500 outliers" }</label>
                    if !self.sessions.is_empty() { <button id="clear" onclick={link.callback(|_| Msg::Clear)}>{ "Clear" }</button> }
                </section>
                <p class="hint">{ "Drop files anywhere on this page. DMOS = mean over raters of 100(z + 3)/6, z = the rater's z-scored difference to the hidden reference; higher = further from the reference, so lower is better. The numbers equal `srkd dmos` on the same files." }</p>
                if !self.errors.is_empty() {
                    <div id="import-errors" class="error" role="alert">
                        <ul>{ for self.errors.iter().map(|e| html! { <li>{ e }</li> }) }</ul>
                    </div>
                }
                { self.view_sessions(ctx) }
                { self.view_table(ctx) }
            </div>
        }
    }
}

impl ResultsPage {
    fn view_sessions(&self, ctx: &Context<Self>) -> Html {
        if self.sessions.is_empty() {
            return html! { <p id="no-sessions">{ "No rating files imported yet." }</p> };
        }
        let screening = |rater: &str| {
            self.table
                .as_ref()
                .and_then(|t| t.as_ref().ok())
                .and_then(|t| t.screening.iter().find(|s| s.rater == rater))
        };
        html! {
            <table id="sessions">
                <tr><th>{ "rater" }</th><th>{ "ratings" }</th><th>{ "from" }</th><th>{ "BT.500 screening" }</th><th></th></tr>
                { for self.sessions.iter().enumerate().map(|(i, (source, s))| {
                    let verdict = screening(&s.rater).map(|v| format!("{} ({} high, {} low of {})", if v.outlier { "outlier" } else { "consistent" }, v.above, v.below, v.items)).unwrap_or_default();
                    html! {
                        <tr data-rater={s.rater.clone()}>
                            <td>{ &s.rater }</td><td>{ s.ratings.len() }</td><td>{ source }</td><td>{ verdict }</td>
                            <td><button onclick={ctx.link().callback(move |_| Msg::Remove(i))}>{ "remove" }</button></td>
                        </tr>
                    }
                }) }
            </table>
        }
    }

    fn view_table(&self, ctx: &Context<Self>) -> Html {
        let table = match &self.table {
            None => return html! {},
            Some(Err(e)) => return html! { <div id="dmos-error" class="error">{ e }</div> },
            Some(Ok(t)) => t,
        };
        let images = table.images();
        html! {
            <section class="dmos">
                <h2>{ format!("Study {} — DMOS (mean ± 95% CI) over {} raters", table.study, table.raters.len()) }</h2>
                <div class="table-scroll">
                    <table id="dmos-table">
                        <tr><th>{ "method" }</th>{ for images.iter().map(|i| html! { <th>{ *i }</th> }) }<th>{ "mean" }</th></tr>
                        { for table.methods().into_iter().map(|method| html! {
                            <tr>
                                <th>{ method }</th>
                                { for images.iter().map(|image| match table.dmos.get(*image).and_then(|r| r.get(method)) {
                                    Some(cell) => {
                                        let best = table.best_for(image).is_some_and(|(m, _)| m == method);
                                        html! {
                                            <td class={classes!(best.then_some("best"))} data-image={image.to_string()} data-method={method.to_string()} data-dmos={cell.dmos.to_string()}>
                                                { format!("{:.1}", cell.dmos) }
                                                if let Some(ci) = cell.ci95 { <small>{ format!(" ± {ci:.1}") }</small> }
                                            </td>
                                        }
                                    }
                                    None => html! { <td>{ "—" }</td> },
                                }) }
                                <td class="mean">{ table.method_means.get(method).map(|m| format!("{m:.2}")).unwrap_or_default() }</td>
                            </tr>
                        }) }
                        if !table.reference.is_empty() {
                            <tr class="reference-sanity">
                                <th>{ REFERENCE_SANITY_LABEL }</th>
                                { for images.iter().map(|image| match table.reference.get(*image) {
                                    Some(cell) => html! { <td data-image={image.to_string()} data-reference={cell.dmos.to_string()}>{ format!("{:.1}", cell.dmos) }</td> },
                                    None => html! { <td>{ "—" }</td> },
                                }) }
                                <td class="mean">{ table.reference_mean().map(|m| format!("{m:.2}")).unwrap_or_default() }</td>
                            </tr>
                        }
                    </table>
                </div>
                <p class="hint">{ "Bold = best (lowest DMOS) per image among the compared methods. DMOS follows the paper's eq. 4–6: each rater's differences are z-scored over the super-resolved images only; the last row places the hidden reference (difference 0) on the same scale as a sanity check." }</p>
                if !table.excluded.is_empty() {
                    <ul id="exclusions">{ for table.excluded.iter().map(|e| html! { <li>{ format!("excluded: rater {}: {}", e.rater, e.reason) }</li> }) }</ul>
                }
                <div class="controls">
                    <button id="export-table-json" onclick={ctx.link().callback(|_| Msg::Export { csv: false })}>{ "Export table JSON" }</button>
                    <button id="export-table-csv" onclick={ctx.link().callback(|_| Msg::Export { csv: true })}>{ "Export table CSV" }</button>
                </div>
            </section>
        }
    }
}
