//! Before/after view: one picture (bicubic, or a second model's result) under, the model's
//! result over it, split by a slider; "fit" or 1:1 pixels (scrollable) for inspecting detail.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    /// Left of the line.
    pub base_url: AttrValue,
    pub base_label: AttrValue,
    /// Right of the line.
    pub over_url: AttrValue,
    pub over_label: AttrValue,
    pub width: usize,
    pub height: usize,
}

#[function_component(Compare)]
pub fn compare(props: &CompareProps) -> Html {
    let split = use_state(|| 50.0f64);
    let actual_size = use_state(|| false);
    let on_split = {
        let split = split.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            split.set(input.value_as_number());
        })
    };
    let toggle_zoom = {
        let actual_size = actual_size.clone();
        Callback::from(move |_| actual_size.set(!*actual_size))
    };
    // 1:1 shows every output pixel; "fit" scales the pair to the panel width.
    let size_style = if *actual_size {
        format!("width: {}px; height: {}px;", props.width, props.height)
    } else {
        "width: 100%;".to_string()
    };
    html! {
        <section class="compare-panel">
            <div class="compare-tools">
                <span class="tag">{ format!("◀ {}", props.base_label) }</span>
                <input id="split" type="range" min="0" max="100" step="0.5" value={split.to_string()} oninput={on_split} aria-label="comparison split" />
                <span class="tag">{ format!("{} ▶", props.over_label) }</span>
                <button id="zoom" onclick={toggle_zoom}>{ if *actual_size { "Fit to width" } else { "Zoom 1:1" } }</button>
            </div>
            <div class={classes!("compare-scroll", (*actual_size).then_some("actual"))}>
                <div class="compare" style={size_style}>
                    <img class="base" src={props.base_url.clone()} alt={props.base_label.clone()} draggable="false" />
                    <img id="sr-image" class="over" src={props.over_url.clone()} alt={props.over_label.clone()} draggable="false"
                        style={format!("clip-path: inset(0 0 0 {:.1}%);", *split)} />
                    <div class="divider" style={format!("left: {:.1}%;", *split)}></div>
                </div>
            </div>
            <p class="hint">{ format!("{}×{} px result. Left of the line: {}; right: {}.", props.width, props.height, props.base_label, props.over_label) }</p>
        </section>
    }
}
