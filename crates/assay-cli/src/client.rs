//! A small blocking client for the review service's API, with its errors mapped to exit codes:
//! a request the server refused (4xx) is the user's to fix (exit 2); a server that fails or
//! cannot be reached is exit 3.

use std::time::Duration;

use anyhow::anyhow;
use assay_api::problem::Problem;
use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::unversioned::multipart::{Form, Part};

use crate::args::ClientArgs;
use crate::exit::Failure;

#[derive(Debug)]
pub struct Client {
    base: String,
    /// `Bearer …`; empty for a client of the public routes only.
    auth: String,
    agent: ureq::Agent,
}

/// What a request came back with, when the server answered.
pub enum Answer<T> {
    Ok(T),
    Refused(u16, Problem),
}

impl Client {
    pub fn new(args: &ClientArgs) -> Result<Client, Failure> {
        Client::connect(&args.server, args.token.as_deref())
    }

    /// A client of `server` with `token`; without one, only the public routes answer
    /// (`/v1/rules`, the active pack).
    pub fn public(server: &str, token: Option<&str>) -> Result<Client, Failure> {
        match token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => Client::connect(server, Some(token)),
            None => Ok(Client { auth: String::new(), ..Client::connect(server, Some("-"))? }),
        }
    }

    fn connect(server: &str, token: Option<&str>) -> Result<Client, Failure> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::Input(anyhow!("--server must be an http:// or https:// URL, not `{base}`"), None));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .user_agent(concat!("assay/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(Failure::Input(
                anyhow!(
                    "no API token: pass --token TOKEN or set ASSAY_TOKEN (an admin creates one with `assay token create`)"
                ),
                None,
            ));
        };
        Ok(Client { base, auth: format!("Bearer {token}"), agent })
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Answer<T>, Failure> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if !self.auth.is_empty() {
            request = request.header("Authorization", &self.auth);
        }
        self.answer(path, request.call())
    }

    /// The server's base URL, as given.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<Answer<T>, Failure> {
        let request = self.agent.post(format!("{}{path}", self.base)).header("Authorization", &self.auth);
        self.answer(path, request.send_json(body))
    }

    pub fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<Answer<T>, Failure> {
        let request = self.agent.put(format!("{}{path}", self.base)).header("Authorization", &self.auth);
        self.answer(path, request.send_json(body))
    }

    pub fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<Answer<T>, Failure> {
        let request = self.agent.patch(format!("{}{path}", self.base)).header("Authorization", &self.auth);
        self.answer(path, request.send_json(body))
    }

    pub fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<Answer<T>, Failure> {
        let request = self.agent.delete(format!("{}{path}", self.base)).header("Authorization", &self.auth);
        self.answer(path, request.call())
    }

    /// POST a multipart form of `(field, file name, bytes)` parts.
    pub fn post_form<T: DeserializeOwned>(
        &self,
        path: &str,
        parts: &[(&str, &str, &[u8])],
    ) -> Result<Answer<T>, Failure> {
        let request = self.agent.post(format!("{}{path}", self.base)).header("Authorization", &self.auth);
        self.answer(path, request.send(form(parts)))
    }

    /// PUT a multipart form of `(field, file name, bytes)` parts.
    pub fn put_form<T: DeserializeOwned>(
        &self,
        path: &str,
        parts: &[(&str, &str, &[u8])],
    ) -> Result<Answer<T>, Failure> {
        let request = self.agent.put(format!("{}{path}", self.base)).header("Authorization", &self.auth);
        self.answer(path, request.send(form(parts)))
    }

    fn answer<T: DeserializeOwned>(
        &self,
        path: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer<T>, Failure> {
        let mut response =
            result.map_err(|e| Failure::Host(anyhow!("could not reach the review service at {}: {e}", self.base)))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| Failure::Host(anyhow!("reading the answer to {path}: {e}")))?;
        if (200..300).contains(&status) {
            // An answer without a body (204, or 202 with nothing to say) reads as `null`.
            let text = if text.trim().is_empty() { "null" } else { text.as_str() };
            return serde_json::from_str(text).map(Answer::Ok).map_err(|e| {
                Failure::Host(anyhow!("the service's answer to {path} is not what this assay expects: {e}"))
            });
        }
        match serde_json::from_str::<Problem>(&text) {
            Ok(problem) if status < 500 => Ok(Answer::Refused(status, problem)),
            Ok(problem) => Err(Failure::Host(anyhow!("the review service failed ({status}): {}", problem.detail))),
            Err(_) => Err(Failure::Host(anyhow!("{} answered {status} to {path}; is it an assay server?", self.base))),
        }
    }
}

/// A multipart form of `(field, file name, bytes)` parts.
fn form<'a>(parts: &[(&'a str, &'a str, &'a [u8])]) -> Form<'a> {
    let mut form = Form::new();
    for (field, file, bytes) in parts {
        form = form.part(field, Part::bytes(bytes).file_name(file));
    }
    form
}

/// A refusal as an input failure: the detail, each field error, and the stable code.
pub fn refused(status: u16, problem: &Problem) -> Failure {
    let mut message = format!("the server refused the request ({status} {}): {}", problem.code, problem.detail);
    for e in &problem.errors {
        let at = match (e.line, e.column) {
            (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
            _ => String::new(),
        };
        message.push_str(&format!("\n  {}{at}: {}", if e.pointer.is_empty() { "/" } else { &e.pointer }, e.detail));
    }
    Failure::Input(anyhow!(message), None)
}

/// An answer as the API returned it, pretty-printed on stdout.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| Failure::Host(e.into()))?);
    Ok(())
}

/// The answer, or the refusal as a failure.
pub fn expect<T>(answer: Answer<T>) -> Result<T, Failure> {
    match answer {
        Answer::Ok(value) => Ok(value),
        Answer::Refused(status, problem) => Err(refused(status, &problem)),
    }
}

/// `SLUG@VERSION` as its two parts, or an input error that says how to name a version.
pub fn version_target(target: &str) -> Result<(&str, &str), Failure> {
    target
        .split_once('@')
        .ok_or_else(|| Failure::Input(anyhow!("name the version as SLUG@VERSION, not `{target}`"), None))
}

/// `path` with the filters that are set as its query string (values percent-encoded).
pub fn with_query(path: &str, filters: &[(&str, &Option<String>)]) -> String {
    let query: Vec<String> = filters
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", crate::people::segment(v))))
        .collect();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}
