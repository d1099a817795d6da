//! `srkd serve`: the web page, the shipped weights and rating studies over HTTP, with every
//! rater's answers collected in a database as they are given and a live Table 3 for the
//! experimenter. axum on tokio; SQLite (default) or PostgreSQL through sqlx.
//!
//! Routes: `/` the built page (`web/dist`, precompressed `.br`/`.gz` used when present);
//! `/studies/{id}/…` and `/study/…` (the first study, the page's default) the study bundles,
//! `study.json` without method names; `/api/…` the rater API ([`rater`]) and, behind the admin
//! token, the experimenter's ([`admin`]); `/results` the experimenter's page.

pub mod admin;
pub mod client;
mod error;
pub mod quality;
mod rater;
pub mod secret;
pub mod store;
pub mod studies;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post, put};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use self::error::ApiError;
use self::quality::QualityChecks;
use self::store::Store;
use self::studies::Studies;
use crate::fsio;

/// Request bodies of the API are a few hundred bytes; anything above this is refused (413).
const MAX_BODY_BYTES: usize = 4096;
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct ServeOptions {
    pub web: PathBuf,
    pub studies: Vec<PathBuf>,
    pub db: String,
    pub bind: SocketAddr,
    pub admin_token_file: Option<PathBuf>,
    pub quality: QualityChecks,
    pub max_raters: i64,
}

pub struct AppState {
    pub store: Store,
    pub studies: Studies,
    pub admin_token: String,
    pub quality: QualityChecks,
    pub max_raters: i64,
}

/// Run the server until Ctrl-C / SIGTERM.
pub fn run(options: ServeOptions) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(serve(options))
}

/// The admin token: read from the file, or created there (owner-only) when it does not exist;
/// without a file, a fresh token for this run only.
fn admin_token(file: Option<&Path>) -> Result<(String, String)> {
    let Some(file) = file else {
        let token = secret::new_token()?;
        return Ok((token.clone(), format!("admin token for this run: {token}")));
    };
    if file.exists() {
        let text = String::from_utf8(fsio::read(file)?).map_err(|_| anyhow!("{}: not UTF-8", file.display()))?;
        let token = text.trim().to_string();
        if token.len() < 20 {
            anyhow::bail!("{}: the admin token must have at least 20 characters", file.display());
        }
        return Ok((token, format!("admin token from {}", file.display())));
    }
    let token = secret::new_token()?;
    fsio::write_atomic(file, format!("{token}\n").as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((token, format!("admin token written to {}", file.display())))
}

pub fn router(state: Arc<AppState>, web: &Path) -> Router {
    let api = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({ "server": "srkd", "version": env!("CARGO_PKG_VERSION") })) }),
        )
        .route("/studies/{study}/raters", post(rater::register))
        .route("/studies/{study}/me", get(rater::me))
        .route("/studies/{study}/answers/{item}", put(rater::put_answer))
        .route("/admin/studies", get(admin::list_studies))
        .route("/admin/studies/{study}/{file}", get(admin::dmos_file))
        .route("/admin/studies/{study}/raters", get(admin::raters))
        .route("/admin/studies/{study}/raters/{rater}/exclusion", put(admin::exclude).delete(admin::include))
        .fallback(any(|| async { ApiError::not_found("no such API route") }))
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "this API route does not take that method")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let page = if web.join("index.html").is_file() {
        Router::new()
            .fallback_service(ServeDir::new(web).precompressed_br().precompressed_gzip())
            .layer(axum::middleware::from_fn(refuse_impossible_paths))
    } else {
        let hint = format!(
            "the page is not built ({} has no index.html): build it with `scripts/build-web.sh`, then restart `srkd serve`",
            web.display()
        );
        Router::new().fallback(any(move || async move { (StatusCode::SERVICE_UNAVAILABLE, hint) }))
    };
    Router::new()
        .nest("/api", api)
        .route("/results", get(|| async { Html(include_str!("results.html")) }))
        .route("/studies/{study}/{*file}", get(study_file))
        .route("/study/{*file}", get(default_study_file))
        .merge(page)
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        // A client that sends a request slowly or never finishes its body gets 408 and is
        // dropped, instead of holding a connection and a task forever.
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .with_state(state)
}

/// A path no file can have (too long for the file system) is a 404 here: the file system would
/// fail on it, and ServeDir reports such failures as 500 (found by the fuzz test).
async fn refuse_impossible_paths(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    if path.len() > 2048 || path.split('/').any(|segment| segment.len() > 255) {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    next.run(request).await
}

async fn study_file(State(state): State<Arc<AppState>>, UrlPath((study, file)): UrlPath<(String, String)>) -> Response {
    serve_study_file(&state, &study, &file).await
}

async fn default_study_file(State(state): State<Arc<AppState>>, UrlPath(file): UrlPath<String>) -> Response {
    match state.studies.default_id.clone() {
        Some(id) => serve_study_file(&state, &id, &file).await,
        None => (StatusCode::NOT_FOUND, "this server hosts no study (srkd serve --study DIR)").into_response(),
    }
}

/// `study.json` as raters see it, or a file the study names; nothing else from its folder.
async fn serve_study_file(state: &AppState, study: &str, file: &str) -> Response {
    let Some(hosted) = state.studies.get(study) else {
        return (StatusCode::NOT_FOUND, "no such study").into_response();
    };
    if file == "study.json" {
        return (
            [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")],
            hosted.rater_view.clone(),
        )
            .into_response();
    }
    let Some(path) = hosted.file(file) else {
        return (StatusCode::NOT_FOUND, "not part of this study").into_response();
    };
    let content_type = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(e) => ApiError::from(anyhow!("{}: {e}", path.display())).into_response(),
    }
}

async fn serve(options: ServeOptions) -> Result<()> {
    let studies = Studies::load(&options.studies)?;
    let store = Store::open(&options.db).await?;
    let (admin_token, admin_note) = admin_token(options.admin_token_file.as_deref())?;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .with_context(|| format!("cannot listen on {}", options.bind))?;
    let address = listener.local_addr()?;
    if !address.ip().is_loopback() {
        eprintln!(
            "warning: listening on {address}, reachable from other machines over plain HTTP: tokens and answers \
             travel unencrypted. Put a TLS reverse proxy (e.g. Caddy or nginx) in front (README, `Serving`)."
        );
    }
    if !options.web.join("index.html").is_file() {
        eprintln!("warning: {} has no built page; build it with `scripts/build-web.sh`", options.web.display());
    }
    // The first line is what scripts and tests read to find the port. Written without
    // println!: a reader that stops reading (closed pipe) must not take the server down.
    let mut banner = format!("srkd serve: listening on http://{address}/\n");
    for id in studies.by_id.keys() {
        banner += &format!("  study `{id}`: raters open http://{address}/?study=studies/{id}/study.json#study\n");
    }
    banner += &format!("  results: http://{address}/results ({admin_note})\n");
    banner += &format!("  answers are stored in {}\n", store::describe_url(&options.db));
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(banner.as_bytes()).and_then(|_| stdout.flush());
    }
    let state = Arc::new(AppState {
        store: store.clone(),
        studies,
        admin_token,
        quality: options.quality,
        max_raters: options.max_raters,
    });
    let app = router(state, &options.web);
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving")?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = interrupt => {}, _ = terminate => {} }
    eprintln!("srkd serve: stopping (answers already acknowledged are stored)");
}
