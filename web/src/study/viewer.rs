//! The picture of a trial, viewable whole (shrunk to fit, never enlarged), at 1:1 or at 2×
//! (pixelated), and panned by dragging or scrolling. The zoom is kept across trials.

use web_sys::{HtmlElement, HtmlImageElement};
use yew::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Zoom {
    Fit,
    Actual,
    Double,
}

#[derive(Properties, PartialEq)]
pub struct ViewerProps {
    pub url: AttrValue,
    /// Which trial: a new trial re-creates the `<img>`, so `on_shown` fires even when two
    /// trials share a file.
    pub trial: usize,
    /// Called once the picture is on screen (response times start there).
    pub on_shown: Callback<()>,
}

#[function_component(Viewer)]
pub fn viewer(props: &ViewerProps) -> Html {
    let zoom = use_state(|| Zoom::Fit);
    let natural_width = use_state(|| 0u32);
    // Drag start: pointer position and the scroll offsets at that moment.
    let drag = use_mut_ref(|| None::<(i32, i32, i32, i32)>);
    let scroller = use_node_ref();

    let on_load = {
        let (natural_width, on_shown) = (natural_width.clone(), props.on_shown.clone());
        Callback::from(move |e: Event| {
            if let Some(img) = e.target_dyn_into::<HtmlImageElement>() {
                natural_width.set(img.natural_width());
            }
            on_shown.emit(());
        })
    };
    let on_down = {
        let (drag, scroller) = (drag.clone(), scroller.clone());
        Callback::from(move |e: MouseEvent| {
            if let Some(el) = scroller.cast::<HtmlElement>() {
                e.prevent_default();
                *drag.borrow_mut() = Some((e.client_x(), e.client_y(), el.scroll_left(), el.scroll_top()));
            }
        })
    };
    let on_move = {
        let (drag, scroller) = (drag.clone(), scroller.clone());
        Callback::from(move |e: MouseEvent| {
            if let (Some((x, y, left, top)), Some(el)) = (*drag.borrow(), scroller.cast::<HtmlElement>()) {
                el.set_scroll_left(left - (e.client_x() - x));
                el.set_scroll_top(top - (e.client_y() - y));
            }
        })
    };
    let on_up = {
        let drag = drag.clone();
        Callback::from(move |_: MouseEvent| *drag.borrow_mut() = None)
    };
    let zoom_button = |z: Zoom, label: &'static str, id: &'static str| {
        let zoom = zoom.clone();
        html! {
            <button id={id} class={classes!((*zoom == z).then_some("active"))} onclick={Callback::from(move |_| zoom.set(z))}>{ label }</button>
        }
    };
    let (class, style) = match *zoom {
        Zoom::Fit => ("fit", String::new()),
        Zoom::Actual => ("actual", String::new()),
        Zoom::Double => {
            ("double", if *natural_width > 0 { format!("width: {}px", 2 * *natural_width) } else { String::new() })
        }
    };
    html! {
        <div class="viewer">
            <div class="viewer-tools">
                { zoom_button(Zoom::Fit, "Fit", "zoom-fit") }
                { zoom_button(Zoom::Actual, "1:1", "zoom-1") }
                { zoom_button(Zoom::Double, "2×", "zoom-2") }
                <span class="tag">{ "Drag or scroll to pan." }</span>
            </div>
            <div ref={scroller} class={classes!("viewer-scroll", class)}
                onmousedown={on_down} onmousemove={on_move} onmouseup={on_up.clone()} onmouseleave={on_up}>
                <img key={props.trial} src={props.url.clone()} style={style} onload={on_load} draggable="false" alt="the picture to rate" />
            </div>
        </div>
    }
}
