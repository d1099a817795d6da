//! The queue as a list: each picture's state and progress, with its actions (view, download,
//! cancel, retry, remove), and the whole batch's (download all as ZIP, clear finished).
//! `#queue` carries the counts as data attributes for the browser tests.

use yew::prelude::*;

use super::super::queue::{Item, ItemState};
use super::super::{Msg, UpscalePage};

impl UpscalePage {
    pub(in super::super) fn queue_view(&self, ctx: &Context<Self>) -> Html {
        // One picture keeps the plain single-result page.
        if self.queue.items.len() < 2 {
            return html! {};
        }
        let link = ctx.link();
        let c = self.queue.counts();
        let active = c.queued + c.running > 0;
        let summary = format!(
            "{} pictures: {} done, {} failed, {} cancelled, {} to go",
            self.queue.items.len(),
            c.done,
            c.failed,
            c.cancelled,
            c.queued + c.running
        );
        html! {
            <section id="queue" class="queue" data-total={self.queue.items.len().to_string()}
                data-done={c.done.to_string()} data-failed={c.failed.to_string()}
                data-cancelled={c.cancelled.to_string()} data-active={if active { "1" } else { "0" }}>
                <div class="queue-tools">
                    <strong>{ summary }</strong>
                    <button id="download-zip" onclick={link.callback(|_| Msg::DownloadZip)} disabled={c.done == 0 || self.zipping}>
                        { if self.zipping { "Making the ZIP…".to_string() } else { format!("Download all ({}) as ZIP", c.done) } }
                    </button>
                    <button id="clear-queue" onclick={link.callback(|_| Msg::ClearFinished)} disabled={!self.queue.items.iter().any(|i| i.state.finished())}>
                        { "Clear finished" }
                    </button>
                </div>
                <ol>{ for self.queue.items.iter().map(|item| self.queue_item(ctx, item)) }</ol>
            </section>
        }
    }

    fn queue_item(&self, ctx: &Context<Self>, item: &Item) -> Html {
        let link = ctx.link();
        let id = item.id;
        let selected = self.selected == Some(id);
        let status = match &item.state {
            ItemState::Queued => "waiting".to_string(),
            ItemState::Running if item.progress.1 == 0 => "loading…".to_string(),
            ItemState::Running => format!("tile {} of {}", item.progress.0, item.progress.1),
            ItemState::Done => match item.shown.as_ref().and_then(|s| s.outcome.metrics.as_ref()) {
                Some(m) => format!("done · PSNR-Y {:.2} dB (bicubic {:.2})", m.model.psnr, m.bicubic.psnr),
                None => {
                    let size = item.shown.as_ref().map(|s| format!(" · {}×{}", s.outcome.width, s.outcome.height));
                    format!("done{}", size.unwrap_or_default())
                }
            },
            ItemState::Failed(e) => format!("failed: {e}"),
            ItemState::Cancelled => "cancelled".to_string(),
        };
        html! {
            <li class={classes!("item", item.state.id(), selected.then_some("selected"))} data-status={item.state.id()} data-name={item.name.clone()}>
                <span class="name">{ &item.name }</span>
                <span class="state">{ status }</span>
                if item.state == ItemState::Running && item.progress.1 > 0 {
                    <progress max={item.progress.1.to_string()} value={item.progress.0.to_string()}></progress>
                }
                <span class="actions">
                    if item.state == ItemState::Done {
                        <button class="view" onclick={link.callback(move |_| Msg::View(id))} disabled={selected}>{ "View" }</button>
                        <button class="download" onclick={link.callback(move |_| Msg::Download(id))}>{ "Download" }</button>
                    }
                    if matches!(item.state, ItemState::Queued | ItemState::Running) {
                        <button class="cancel" onclick={link.callback(move |_| Msg::CancelItem(id))}>{ "Cancel" }</button>
                    }
                    if matches!(item.state, ItemState::Failed(_) | ItemState::Cancelled) {
                        <button class="retry" onclick={link.callback(move |_| Msg::Retry(id))}>{ "Retry" }</button>
                    }
                    if item.state != ItemState::Running {
                        <button class="remove" onclick={link.callback(move |_| Msg::Remove(id))} aria-label="remove">{ "✕" }</button>
                    }
                </span>
            </li>
        }
    }
}
