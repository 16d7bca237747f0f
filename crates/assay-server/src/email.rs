//! E-mail over SMTP: the [`Mailer`] the service's outbox sends through, and the e-mails' text
//! and HTML, rendered from templates in the console's look.
//!
//! Every e-mail is `multipart/alternative` (plain text first, then HTML). One that a person can
//! turn off carries `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
//! (RFC 8058), so mail clients offer their own unsubscribe button; the link opens
//! `/unsubscribe/{token}` (see the console), which works without signing in.
//!
//! The relay is reached only at addresses [`Outbound`] allows, checked after resolution on
//! every send — the address checked is the one connected to (TLS still verifies the relay's
//! name).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use askama::Template;
use assay_core::address::Outbound;
use assay_service::{EmailContent, FailureKind, Mailer, OutgoingEmail, SendFailure};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on the same host or a trusted network.
    None,
    /// Plain SMTP upgraded with STARTTLS, which must succeed (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl std::str::FromStr for SmtpSecurity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" => Ok(SmtpSecurity::Tls),
            other => Err(format!("`{other}` is not an SMTP security mode; use none, starttls or tls")),
        }
    }
}

/// Where and how e-mail is sent.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The relay's host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// User name and password, when the relay wants them (never sent over a plain connection
    /// unless `security` is `None`, which the operator chose).
    pub credentials: Option<(String, String)>,
    /// The sender, e.g. `assay <assay@example.com>`.
    pub from: String,
    /// How long one send may take.
    pub timeout: Duration,
    /// Which addresses the relay may have (a relay on loopback or a private network needs
    /// `allow_local`).
    pub outbound: Outbound,
}

/// Sends e-mail through an SMTP relay.
#[derive(Debug)]
pub struct SmtpMailer {
    config: SmtpConfig,
    from: Mailbox,
    /// The domain of message ids: the sender's.
    domain: String,
}

impl SmtpMailer {
    /// A mailer for `config`; refuses a sender that is not a mailbox, and a relay given as an
    /// address `config.outbound` does not allow.
    pub fn new(config: SmtpConfig) -> Result<SmtpMailer, String> {
        let from: Mailbox =
            config.from.parse().map_err(|e| format!("`{}` is not a sender address: {e}", config.from))?;
        let domain = from.email.domain().to_owned();
        if let Ok(ip) = config.host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>()
            && let Some(why) = config.outbound.refusal(ip)
        {
            return Err(format!(
                "the SMTP relay {} cannot be used: {why}; set email.allow_private_relay = true for a relay on this host or network",
                config.host
            ));
        }
        Ok(SmtpMailer { config, from, domain })
    }

    /// The relay's first address that may be used.
    fn relay_address(&self) -> Result<SocketAddr, SendFailure> {
        let host = self.config.host.trim_start_matches('[').trim_end_matches(']');
        let resolved: Vec<SocketAddr> = (host, self.config.port)
            .to_socket_addrs()
            .map_err(|e| SendFailure {
                kind: FailureKind::Unreachable,
                detail: format!("resolving the SMTP relay {host}: {e}"),
            })?
            .collect();
        let mut refused = Vec::new();
        for address in &resolved {
            match self.config.outbound.refusal(address.ip()) {
                None => return Ok(*address),
                Some(why) => refused.push(format!("{} ({why})", address.ip())),
            }
        }
        Err(SendFailure {
            kind: FailureKind::NotPublic,
            detail: format!(
                "the SMTP relay {host} resolves only to addresses e-mail may not use: {}; set \
                 email.allow_private_relay = true for a relay on this host or network",
                refused.join(", ")
            ),
        })
    }

    fn transport(&self, address: SocketAddr) -> Result<SmtpTransport, SendFailure> {
        let host = self.config.host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let tls_failure = |e: lettre::transport::smtp::Error| SendFailure {
            kind: FailureKind::Tls,
            detail: format!("setting up TLS for {host}: {e}"),
        };
        let tls = match self.config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(TlsParameters::new(host.clone()).map_err(tls_failure)?),
            SmtpSecurity::Tls => Tls::Wrapper(TlsParameters::new(host.clone()).map_err(tls_failure)?),
        };
        let mut builder = SmtpTransport::builder_dangerous(address.ip().to_string())
            .port(address.port())
            .tls(tls)
            .timeout(Some(self.config.timeout));
        if let Some((user, password)) = &self.config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    /// The message `email` becomes.
    pub fn message(&self, email: &OutgoingEmail) -> Result<Message, SendFailure> {
        let invalid = |detail: String| SendFailure { kind: FailureKind::Protocol, detail };
        let to: Mailbox = email.to.parse().map_err(|e| invalid(format!("`{}` is not an address: {e}", email.to)))?;
        let (text, html) = render(&email.content).map_err(invalid)?;
        let id = format!("<{}.{}@{}>", email.kind, hex::encode(rand::random::<[u8; 12]>()), self.domain);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(id))
            .date_now()
            .user_agent(concat!("assay/", env!("CARGO_PKG_VERSION")).to_owned());
        if let Some(url) = &email.content.unsubscribe {
            builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
        }
        builder.multipart(MultiPart::alternative_plain_html(text, html)).map_err(|e| invalid(e.to_string()))
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, email: &OutgoingEmail) -> Result<(), SendFailure> {
        let message = self.message(email)?;
        let address = self.relay_address()?;
        let transport = self.transport(address)?;
        transport.send(&message).map(drop).map_err(|e| {
            let kind = if e.is_timeout() {
                FailureKind::Timeout
            } else if e.is_tls() {
                FailureKind::Tls
            } else if e.is_transient() || e.is_permanent() {
                FailureKind::Protocol
            } else {
                FailureKind::Unreachable
            };
            SendFailure { kind, detail: format!("the SMTP relay {address}: {e}") }
        })
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[derive(Template)]
#[template(path = "email/message.txt")]
struct TextEmail<'a> {
    content: &'a EmailContent,
}

#[derive(Template)]
#[template(path = "email/message.html")]
struct HtmlEmail<'a> {
    content: &'a EmailContent,
}

/// An e-mail's text and HTML parts.
pub fn render(content: &EmailContent) -> Result<(String, String), String> {
    let text = TextEmail { content }.render().map_err(|e| format!("rendering the text part: {e}"))?;
    let html = HtmlEmail { content }.render().map_err(|e| format!("rendering the HTML part: {e}"))?;
    Ok((text, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> EmailContent {
        EmailContent {
            greeting: "Hello Ada,".into(),
            heading: "acme 1.0.0 was approved".into(),
            paragraphs: vec!["The reviewer's note: “<script>alert(1)</script>”".into()],
            facts: vec![("From".into(), "awaiting review".into())],
            action: Some(("See the version".into(), "https://assay.test/listings/acme/versions/1.0.0".into())),
            why: "You receive this as a member of acme on assay.".into(),
            unsubscribe: Some("https://assay.test/unsubscribe/unsub_1?kind=decision".into()),
        }
    }

    #[test]
    fn both_parts_say_the_same_and_html_is_escaped() {
        let (text, html) = render(&content()).unwrap();
        for part in [&text, &html] {
            assert!(part.contains("acme 1.0.0 was approved"), "{part}");
            assert!(part.contains("https://assay.test/unsubscribe/unsub_1?kind=decision"), "{part}");
        }
        assert!(text.contains("<script>alert(1)</script>"), "text is not escaped: {text}");
        assert!(!html.contains("<script>"), "HTML escapes what people wrote: {html}");
        assert!(html.contains("&#60;script&#62;"), "{html}");
    }

    #[test]
    fn a_relay_on_loopback_needs_the_setting() {
        let config = SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            credentials: None,
            from: "assay <assay@platform.test>".into(),
            timeout: Duration::from_secs(5),
            outbound: Outbound { allow_local: false },
        };
        let err = SmtpMailer::new(config.clone()).unwrap_err();
        assert!(err.contains("email.allow_private_relay"), "{err}");
        assert!(SmtpMailer::new(SmtpConfig { outbound: Outbound { allow_local: true }, ..config.clone() }).is_ok());
        let bad_from = SmtpMailer::new(SmtpConfig { from: "not an address".into(), ..config }).unwrap_err();
        assert!(bad_from.contains("is not a sender address"), "{bad_from}");
    }
}
