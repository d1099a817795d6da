//! Thin wrappers over the browser APIs the page needs: query parameters, timing, yielding to
//! the event loop, fetching, files, blob URLs and downloads.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Response, Url, UrlSearchParams};

fn window() -> web_sys::Window {
    web_sys::window().expect("the page runs in a browser window")
}

fn js_error(context: &str, e: JsValue) -> String {
    let detail = e
        .as_string()
        .or_else(|| e.dyn_into::<js_sys::Error>().ok().map(|e| String::from(e.message())))
        .unwrap_or_default();
    format!("{context}: {detail}")
}

/// A query parameter of the page's URL (`?demo=1&model=…`).
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

/// `?name=` as one of `choices` (`default` when absent); any other value is an error naming
/// the choices, never a silent default.
pub fn query_choice<T: Copy>(name: &str, what: &str, choices: &[(&str, T)], default: T) -> Result<T, String> {
    let Some(value) = query_param(name) else { return Ok(default) };
    if let Some((_, choice)) = choices.iter().find(|(key, _)| *key == value) {
        return Ok(*choice);
    }
    let names: Vec<&str> = choices.iter().map(|(key, _)| *key).collect();
    let list = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    };
    Err(format!("unknown {what} `{value}`; use {list}"))
}

/// Milliseconds since page load (`performance.now()`; `std::time` does not exist on wasm).
pub fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// A named point on the page's timeline (`performance.mark`): start-up and each job's stages,
/// for the browser's profiler and the browser tests (README, Web page, lists them).
pub fn mark(name: &str) {
    // The global scope's, so code the tile workers share with the page may mark too.
    let performance = field(&js_sys::global(), "performance");
    if let Ok(performance) = performance.dyn_into::<web_sys::Performance>() {
        let _ = performance.mark(name);
    }
}

/// Let the browser render and handle input (progress bar, cancel button) between tiles.
pub async fn yield_now() {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

/// Wait `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// What the browser says of its WebGPU adapter (`GPUAdapterInfo`, read through `Reflect`
/// because web-sys gates the WebGPU types behind an unstable flag).
pub struct WebGpuAdapter {
    pub vendor: String,
    pub architecture: String,
    pub device: String,
    pub description: String,
    /// `isFallbackAdapter`: the browser's own word that this is a software implementation.
    pub is_fallback: bool,
}

impl WebGpuAdapter {
    /// "vendor architecture description", the parts the browser filled in.
    pub fn describe(&self) -> String {
        let parts = [&self.vendor, &self.architecture, &self.device, &self.description];
        let text = parts.iter().filter(|p| !p.is_empty()).map(|p| p.as_str()).collect::<Vec<_>>().join(" ");
        if text.is_empty() { "an unnamed adapter".into() } else { text }
    }
}

/// `object[key]`, `undefined` when absent (or `object` is no object).
pub fn field(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The browser's default WebGPU adapter: `Ok(None)` without WebGPU or without an adapter.
/// Requested when called, not when first awaited, so the page can work while the browser
/// answers (`Backend::init` warms the CPU kernels meanwhile).
pub fn webgpu_adapter() -> impl std::future::Future<Output = Result<Option<WebGpuAdapter>, String>> {
    let requested = request_adapter();
    async move {
        match requested? {
            Some(promise) => adapter_of(promise).await,
            None => Ok(None),
        }
    }
}

/// `navigator.gpu.requestAdapter()`'s promise; `None` without WebGPU.
fn request_adapter() -> Result<Option<Promise>, String> {
    let gpu = field(&window().navigator(), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Ok(None);
    }
    let request: js_sys::Function =
        field(&gpu, "requestAdapter").dyn_into().map_err(|_| "navigator.gpu.requestAdapter is missing".to_string())?;
    let promise: Promise = request
        .call0(&gpu)
        .map_err(|e| js_error("requestAdapter", e))?
        .dyn_into()
        .map_err(|_| "requestAdapter returned no promise".to_string())?;
    Ok(Some(promise))
}

async fn adapter_of(promise: Promise) -> Result<Option<WebGpuAdapter>, String> {
    let adapter = JsFuture::from(promise).await.map_err(|e| js_error("requestAdapter", e))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Ok(None);
    }
    // `adapter.info` (Chrome 127+, Firefox, Safari); older Chromes have neither it nor a name.
    let info = field(&adapter, "info");
    let text = |key| field(&info, key).as_string().unwrap_or_default();
    let flag = |object: &JsValue| field(object, "isFallbackAdapter").as_bool().unwrap_or(false);
    Ok(Some(WebGpuAdapter {
        vendor: text("vendor"),
        architecture: text("architecture"),
        device: text("device"),
        description: text("description"),
        is_fallback: flag(&adapter) || flag(&info),
    }))
}

async fn array_buffer_bytes(promise: Promise, context: &str) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(promise).await.map_err(|e| js_error(context, e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

std::thread_local! {
    /// Files fetched ahead of their use (`fetch_ahead`), each handed out once.
    static FETCHED_AHEAD: std::cell::RefCell<Vec<(String, Vec<u8>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// GET a file now for a later `fetch_bytes` of the same URL, which then takes these bytes
/// (once). The page uses it for what index.html preloads but the first picture will read: the
/// browser warns about a preload nobody reads within seconds, and the first picture may come
/// much later.
pub async fn fetch_ahead(url: &str) {
    if let Ok(bytes) = fetch_bytes(url).await {
        FETCHED_AHEAD.with_borrow_mut(|kept| kept.push((url.to_string(), bytes)));
    }
}

/// GET a file next to the page.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let kept = FETCHED_AHEAD.with_borrow_mut(|kept| {
        let at = kept.iter().position(|(kept_url, _)| kept_url == url)?;
        Some(kept.swap_remove(at).1)
    });
    if let Some(bytes) = kept {
        return Ok(bytes);
    }
    let response = JsFuture::from(window().fetch_with_str(url)).await.map_err(|e| js_error(url, e))?;
    let response: Response = response.dyn_into().map_err(|_| format!("{url}: not an HTTP response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let promise = response.array_buffer().map_err(|e| js_error(url, e))?;
    array_buffer_bytes(promise, url).await
}

/// A JSON request to the server that served the page: `Ok((status, body))` for any HTTP
/// answer, `Err` when none came (offline, server down).
pub async fn fetch_json(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<(u16, serde_json::Value), String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|e| js_error(url, e))?;
    if let Some(token) = token {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(|e| js_error(url, e))?;
    }
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").map_err(|e| js_error(url, e))?;
        init.set_body(&JsValue::from_str(&body.to_string()));
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| js_error(url, e))?;
    let response = JsFuture::from(window().fetch_with_request(&request)).await.map_err(|e| js_error(url, e))?;
    let response: Response = response.dyn_into().map_err(|_| format!("{url}: not an HTTP response"))?;
    let status = response.status();
    let promise = response.array_buffer().map_err(|e| js_error(url, e))?;
    let bytes = array_buffer_bytes(promise, url).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
}

/// The bytes of a file the user picked, dropped or pasted.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    array_buffer_bytes(file.array_buffer(), &file.name()).await
}

/// An object URL for a file's bytes of MIME type `mime` (revoke it with [`revoke`] when
/// replaced). The bytes are copied out of WebAssembly memory into the blob.
pub fn blob_url(bytes: &[u8], mime: &str) -> Result<String, String> {
    let parts = Array::new();
    parts.push(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| js_error("blob", e))?;
    Url::create_object_url_with_blob(&blob).map_err(|e| js_error("blob URL", e))
}

/// An object URL of a blob (revoke it when done).
pub fn object_url(blob: &Blob) -> Result<String, String> {
    Url::create_object_url_with_blob(blob).map_err(|e| js_error("blob URL", e))
}

/// A `Write` whose bytes leave WebAssembly memory in 1 MiB parts that become one `Blob`: a
/// file (a ZIP, a streamed PNG) is never one buffer of its whole size here.
pub struct BlobParts {
    parts: Array,
    pending: Vec<u8>,
}

impl BlobParts {
    const PART_BYTES: usize = 1 << 20;

    pub fn new() -> Self {
        Self { parts: Array::new(), pending: Vec::new() }
    }

    fn flush_part(&mut self) {
        if !self.pending.is_empty() {
            self.parts.push(&Uint8Array::from(&self.pending[..]));
            self.pending.clear();
        }
    }

    pub fn into_blob(mut self, mime: &str) -> Result<Blob, String> {
        self.flush_part();
        let options = BlobPropertyBag::new();
        options.set_type(mime);
        Blob::new_with_u8_array_sequence_and_options(&self.parts, &options).map_err(|e| js_error("blob", e))
    }
}

impl std::io::Write for BlobParts {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= Self::PART_BYTES {
            self.flush_part();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of the WebAssembly memory: its peak, since wasm memory only grows.
pub fn wasm_memory_bytes() -> usize {
    let buffer = field(&wasm_bindgen::memory(), "buffer");
    field(&buffer, "byteLength").as_f64().unwrap_or_default() as usize
}

/// Save a blob as `file_name` (its URL released once the download has started).
pub fn download_blob(blob: &Blob, file_name: &str) {
    let Ok(url) = Url::create_object_url_with_blob(blob) else { return };
    download(&url, file_name);
    gloo_timers::callback::Timeout::new(60_000, move || revoke(&url)).forget();
}

pub fn revoke(url: &str) {
    let _ = Url::revoke_object_url(url);
}

/// Save `url` as `file_name` (a click on a temporary download link).
pub fn download(url: &str, file_name: &str) {
    let Some(document) = window().document() else { return };
    let Ok(anchor) = document.create_element("a") else { return };
    let anchor: HtmlAnchorElement = anchor.unchecked_into();
    anchor.set_href(url);
    anchor.set_download(file_name);
    anchor.click();
}

/// Save `text` as a file (a blob URL, released once the download has started).
pub fn download_text(text: &str, mime: &str, file_name: &str) {
    let parts = Array::new();
    parts.push(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = Url::create_object_url_with_blob(&blob) else { return };
    download(&url, file_name);
    // The download reads the blob asynchronously: release it a little later, not now.
    gloo_timers::callback::Timeout::new(10_000, move || revoke(&url)).forget();
}
