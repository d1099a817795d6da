//! A running `srkd serve` for a test (killed with SIGKILL when dropped or asked), a fake built
//! page, and the library's plain-socket client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
pub use srkd::serve::client::{Response, parse, send_raw, spawn_server};

use crate::common::root;

pub struct Server {
    pub child: Child,
    pub client: Client,
    pub admin: String,
}

/// The library's client, failing the test where the server does not answer.
#[derive(Clone, Copy)]
pub struct Client(pub srkd::serve::client::Client);

impl Client {
    pub fn address(&self) -> SocketAddr {
        self.0.address
    }
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.0.request(method, path, headers, body).unwrap_or_else(|| panic!("{method} {path}: no response"))
    }
    pub fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.try_json(method, path, token, body).unwrap_or_else(|| panic!("{method} {path}: no response"))
    }
    pub fn try_json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Option<Response> {
        self.0.json(method, path, token, body)
    }
    pub fn alive(&self) -> bool {
        self.0.alive()
    }
}

/// A response body that must be JSON.
pub trait JsonBody {
    fn body_json(&self) -> Value;
}

impl JsonBody for Response {
    fn body_json(&self) -> Value {
        self.json().unwrap_or_else(|e| panic!("{e}: status {} body {:?}", self.status, self.text()))
    }
}

impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// `srkd serve` on a free loopback port with `db`, the default study and `web` as the page.
pub fn start(db: &str, web: &Path, dir: &Path, extra: &[&str]) -> Server {
    let token_file = dir.join("admin-token");
    let mut args = vec!["--bind", "127.0.0.1:0", "--db", db, "--web", web.to_str().unwrap()];
    args.extend(["--admin-token-file", token_file.to_str().unwrap()]);
    args.extend(extra);
    let exe = Path::new(env!("CARGO_BIN_EXE_srkd"));
    let (child, address) = spawn_server(exe, &args, &root(), Stdio::inherit()).unwrap();
    let admin = std::fs::read_to_string(&token_file).unwrap().trim().to_string();
    Server { child, client: Client(srkd::serve::client::Client { address }), admin }
}

impl Server {
    pub fn admin_get(&self, path: &str) -> Response {
        let auth = format!("Bearer {}", self.admin);
        self.request("GET", path, &[("Authorization", &auth)], b"")
    }

    /// SIGKILL: no shutdown, no flush — what a crash or an OOM kill does.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new, empty PostgreSQL database for one test, on the server `SRKD_TEST_POSTGRES` names
/// (scripts/postgres-for-tests.sh starts one; scripts/test.sh sets the variable).
pub fn fresh_postgres() -> String {
    let admin = std::env::var("SRKD_TEST_POSTGRES")
        .expect("SRKD_TEST_POSTGRES is not set: run `export SRKD_TEST_POSTGRES=$(scripts/postgres-for-tests.sh)`");
    assert!(admin.starts_with("postgres://"), "SRKD_TEST_POSTGRES is not a postgres:// URL: {admin:?}");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("srkd_test_{}_{nanos}", std::process::id());
    let out = Command::new("psql").args([admin.as_str(), "-qc", &format!("CREATE DATABASE {name}")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (server, _) = admin.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

/// A fake built page: index.html, a .wasm, and a .js with a brotli twin.
pub fn fake_page(dir: &Path) -> PathBuf {
    let web = dir.join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>srkd</title>").unwrap();
    std::fs::write(web.join("app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(web.join("app.js"), "console.log('plain')").unwrap();
    std::fs::write(web.join("app.js.br"), b"BROTLI-BYTES").unwrap();
    web
}
