//! `/rules` and `/rules/{id}`: the rules new reviews run and what each wants, for anyone —
//! a partner following a finding's help link needs no account. The documentation is the
//! Markdown the pack ships; raw HTML in it is shown as text and only web and mail links stay
//! links, so a pack cannot put script or a `javascript:` link on the console's origin.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{ConsoleError, Layout, Viewer, render};
use crate::AppState;
use crate::problem::ApiError;

/// Fail with an error page in `frame`, linking back to `back`.
fn failed(frame: &Layout, back: &str) -> impl FnOnce(assay_service::ServiceError) -> ConsoleError {
    let (frame, back) = (frame.clone(), back.to_owned());
    move |e| ConsoleError::failed(ApiError::from(e), frame, back)
}

/// The frame of a public page: the viewer's when signed in.
fn layout(state: &AppState, viewer: Option<&Viewer>) -> Layout {
    match viewer {
        Some(viewer) => viewer.layout("/rules"),
        None => Layout { now: state.service.now(), current: "/rules", ..Layout::default() },
    }
}

struct Row {
    id: String,
    name: String,
    severity: &'static str,
    summary: String,
    enabled: bool,
    documented: bool,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    pack: String,
    digest: String,
    rows: Vec<Row>,
}

/// `GET /rules`: every rule of the active pack.
pub(crate) async fn index(State(state): State<AppState>, viewer: Option<Viewer>) -> Result<Response, ConsoleError> {
    let frame = layout(&state, viewer.as_ref());
    let catalogue = state.service.rule_catalogue().await.map_err(failed(&frame, "/"))?;
    let rows = catalogue
        .rules
        .iter()
        .map(|r| Row {
            id: r.id.clone(),
            name: r.name.clone(),
            severity: r.severity.as_str(),
            summary: first_sentence(&r.description).to_owned(),
            enabled: r.enabled,
            documented: r.docs.is_some(),
        })
        .collect();
    Ok(render(&RulesPage {
        layout: frame,
        pack: format!("{}@{}", catalogue.pack, catalogue.version),
        digest: catalogue.digest,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "rule.html")]
struct RulePage {
    layout: Layout,
    pack: String,
    id: String,
    name: String,
    version: String,
    severity: &'static str,
    enabled: bool,
    description: String,
    /// The documentation as HTML, made safe by [`markdown`].
    docs: Option<String>,
}

/// `GET /rules/{id}`: one rule and its documentation.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let frame = layout(&state, viewer.as_ref());
    let catalogue = state.service.rule_catalogue().await.map_err(failed(&frame, "/rules"))?;
    let Some(rule) = catalogue.rules.iter().find(|r| r.id == id) else {
        let missing = assay_service::ServiceError::NotFound(format!("rule `{id}` in the active rule pack"));
        return Err(failed(&frame, "/rules")(missing));
    };
    Ok(render(&RulePage {
        layout: frame,
        pack: format!("{}@{}", catalogue.pack, catalogue.version),
        id: rule.id.clone(),
        name: rule.name.clone(),
        version: rule.version.clone(),
        severity: rule.severity.as_str(),
        enabled: rule.enabled,
        description: rule.description.clone(),
        docs: rule.docs.as_deref().map(markdown),
    }))
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// CommonMark to HTML for the console: headings one level down (the page has its own `h1`),
/// raw HTML as text, and only http(s), mail and same-site links.
pub(crate) fn markdown(text: &str) -> String {
    let down = |level: HeadingLevel| match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    };
    let safe = |url: &CowStr<'_>| {
        let url = url.trim().to_ascii_lowercase();
        ["https://", "http://", "mailto:", "/", "#"].iter().any(|p| url.starts_with(p)) || !url.contains(':')
    };
    let events =
        Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                Event::Start(Tag::Heading { level: down(level), id, classes, attrs })
            }
            Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(down(level))),
            Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe(&dest_url) => {
                Event::Start(Tag::Link { link_type, dest_url: CowStr::Borrowed("#"), title, id })
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe(&dest_url) => {
                Event::Start(Tag::Image { link_type, dest_url: CowStr::Borrowed("#"), title, id })
            }
            other => other,
        });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn documentation_cannot_run_script_or_link_to_it() {
        let html = markdown(
            "# urls.https\n\n<script>alert(1)</script>\n\n[fix](javascript:alert(1)) [ok](https://example.com) \
             <img src=x onerror=alert(1)>\n\n```toml\n[urls]\n```\n",
        );
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:") && html.contains("href=\"#\""), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.starts_with("<h2>urls.https</h2>"), "headings move down a level: {html}");
        assert!(html.contains("<code class=\"language-toml\">[urls]"), "{html}");
    }
}
