//! The page's three views, chosen by the URL fragment so each can be linked and reloaded:
//! the upscaler (no fragment), the rating study (`#study`) and the DMOS results (`#results`).

use gloo_events::EventListener;
use yew::prelude::*;

use crate::study::rating::RatingPage;
use crate::study::results::ResultsPage;
use crate::upscale::UpscalePage;

#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Upscale,
    Study,
    Results,
}

fn current_view() -> View {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    match hash.as_str() {
        "#study" => View::Study,
        "#results" => View::Results,
        _ => View::Upscale,
    }
}

#[function_component(Root)]
pub fn root() -> Html {
    let view = use_state(current_view);
    {
        let view = view.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window()
                .map(|window| EventListener::new(&window, "hashchange", move |_| view.set(current_view())));
            move || drop(listener)
        });
    }
    let tab = |v: View, href: &'static str, label: &'static str| {
        html! { <a href={href} class={classes!("tab", (*view == v).then_some("active"))}>{ label }</a> }
    };
    html! {
        <>
            <nav class="tabs">
                { tab(View::Upscale, "#", "Upscale") }
                { tab(View::Study, "#study", "Rating study") }
                { tab(View::Results, "#results", "DMOS results") }
            </nav>
            { match *view {
                View::Upscale => html! { <UpscalePage /> },
                View::Study => html! { <RatingPage /> },
                View::Results => html! { <ResultsPage /> },
            } }
        </>
    }
}
