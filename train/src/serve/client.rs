//! A minimal blocking HTTP/1.1 client for a `srkd serve` on loopback, one connection per
//! request: what `srkd bench serve` simulates raters with and the tests drive the server with
//! (including bytes no well-behaved client would send).

use anyhow::Context;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Requests to one server address (copied freely into threads).
#[derive(Clone, Copy)]
pub struct Client {
    pub address: SocketAddr,
}

impl Client {
    /// `None` when the server is not there or closed the connection without a response.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<Response> {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.address);
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(body);
        send_raw(self.address, &bytes, false).and_then(|raw| parse(&raw))
    }

    /// A JSON request, with `Authorization: Bearer TOKEN` when a token is given.
    pub fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Option<Response> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        self.request(method, path, &headers, body.to_string().as_bytes())
    }

    pub fn alive(&self) -> bool {
        self.request("GET", "/api/health", &[], b"").is_some_and(|r| r.status == 200)
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Result<Value> {
        serde_json::from_slice(&self.body)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// Write `bytes` as they are and read until the server closes; `None` if it sent nothing.
///
/// `hang_up`: close our sending side right after the bytes, as a client that gives up does
/// (the server then drops the connection, usually without a response); otherwise wait for the
/// response (requests carry `Connection: close`, so the server ends it).
pub fn send_raw(address: SocketAddr, bytes: &[u8], hang_up: bool) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    stream.write_all(bytes).ok()?;
    if hang_up {
        stream.shutdown(std::net::Shutdown::Write).ok();
    }
    let mut out = Vec::new();
    stream.read_to_end(&mut out).ok();
    (!out.is_empty()).then_some(out)
}

/// A response as the server sent it; `None` if it is not HTTP (a test then fails on it).
pub fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Some(Response { status, headers, body })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

/// Start `srkd serve` (the binary `exe`, from `cwd`) with `args` after `serve`, and wait for the
/// line that says where it listens. The rest of what it prints is drained in the background,
/// so the server never writes into a closed pipe. The child is the caller's to stop.
pub fn spawn_server(
    exe: &std::path::Path,
    args: &[&str],
    cwd: &std::path::Path,
    stderr: Stdio,
) -> anyhow::Result<(Child, SocketAddr)> {
    let mut child = Command::new(exe)
        .arg("serve")
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("cannot start {} serve", exe.display()))?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?);
    let mut first = String::new();
    stdout.read_line(&mut first)?;
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let address = first
        .trim()
        .strip_prefix("srkd serve: listening on http://")
        .and_then(|a| a.trim_end_matches('/').parse().ok());
    match address {
        Some(address) => Ok((child, address)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("srkd serve did not start (it printed {first:?})")
        }
    }
}
