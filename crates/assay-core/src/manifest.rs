//! `listing.toml`: what a listing claims, asks for and promises.
//!
//! Parsing happens in two passes. Serde checks the structure (unknown fields, wrong types,
//! missing required fields); then [`Manifest::parse`] validates values that have a grammar of
//! their own (slug, semver, URLs). Either way the error carries the file, line, column, field
//! and JSON Pointer of the offending value, found through the same [`SourceMap`] that later
//! places rule findings on their manifest line.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::pointer;

/// A parsed, validated listing manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The listing's stable identifier.
    pub slug: ListingSlug,
    /// Display name.
    pub name: String,
    /// Declared version.
    pub version: semver::Version,
    /// One line for search results.
    pub summary: String,
    /// The full description.
    pub description: String,
    /// Marketplace category.
    pub category: String,
    /// Search keywords.
    pub keywords: Vec<String>,
    /// Targeted platform API version, e.g. `2026-07`.
    pub api_version: String,
    /// Public URLs.
    pub urls: Urls,
    /// Support contact.
    pub support: SupportContact,
    /// Pricing.
    pub pricing: Pricing,
    /// Requested scopes.
    pub scopes: Vec<Scope>,
    /// Webhook subscriptions.
    pub webhooks: Vec<Webhook>,
    /// Data shared with third parties.
    pub data_shared: Vec<DataShare>,
    /// The integration check the listing ships, if any.
    pub check: Option<IntegrationCheck>,
}

/// A listing slug: 3–64 characters of `a-z`, `0-9` and `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListingSlug(String);

impl ListingSlug {
    /// Validate a slug.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_chars = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let starts_with_letter = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if !(3..=64).contains(&s.len()) || !ok_chars || !starts_with_letter || s.ends_with('-') {
            return Err(format!(
                "`{s}` is not a valid slug: use 3 to 64 characters of a-z, 0-9 and '-', \
                 starting with a letter and not ending with '-'"
            ));
        }
        Ok(ListingSlug(s.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ListingSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Public URLs; each one is a syntactically valid absolute URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Urls {
    /// The app's home page.
    pub homepage: Option<url::Url>,
    /// Privacy policy.
    pub privacy_policy: Option<url::Url>,
    /// Terms of service.
    pub terms: Option<url::Url>,
    /// Support page.
    pub support: Option<url::Url>,
}

/// How merchants reach the partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupportContact {
    /// E-mail address, as written.
    pub email: Option<String>,
    /// Support page or form.
    pub url: Option<url::Url>,
    /// Phone number, as written.
    pub phone: Option<String>,
}

/// The pricing model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PricingModel {
    /// No charge.
    Free,
    /// Free tier plus paid plans.
    Freemium,
    /// One-off or usage-based charge.
    Paid,
    /// Recurring charge.
    Subscription,
}

/// What the app costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// The model.
    pub model: PricingModel,
    /// Trial length in days.
    pub trial_days: Option<u32>,
    /// Paid plans.
    pub plans: Vec<Plan>,
}

/// One paid plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Plan {
    /// Name shown to merchants.
    pub name: String,
    /// Price in minor units.
    pub price_cents: u64,
    /// ISO 4217 code, as written.
    pub currency: String,
    /// `month`, `year` or `once`, as written.
    pub interval: String,
}

/// A requested scope and why.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Scope name, e.g. `read_orders`.
    pub name: String,
    /// The reason; empty when the partner gave none.
    #[serde(default)]
    pub justification: String,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Event topic, e.g. `orders/create`.
    pub topic: String,
    /// Delivery URL.
    pub url: url::Url,
}

/// Data shared with a third party.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataShare {
    /// What is shared.
    pub data: String,
    /// Who receives it.
    pub recipient: String,
    /// Why.
    pub purpose: String,
}

/// The partner's own integration check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationCheck {
    /// Path of the component, relative to the manifest.
    pub component: String,
}

/// Why a manifest was refused, and exactly where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ManifestError {
    /// The file name the caller gave.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The offending field as a dotted path, e.g. `scopes[2].name`; empty for the document.
    pub field: String,
    /// The same place as a JSON Pointer, e.g. `/scopes/2/name`.
    pub pointer: String,
    /// What is wrong, naming the field.
    pub message: String,
    /// Byte range in the source, for code frames.
    pub span: Range<usize>,
}

/// A manifest together with the map from JSON Pointers to source positions.
#[derive(Debug, Clone)]
pub struct ParsedManifest {
    /// The validated manifest.
    pub manifest: Manifest,
    /// Where each value sits in the source.
    pub source_map: SourceMap,
}

impl Manifest {
    /// Parse and validate `source`, naming `file` in errors.
    // The error is large but rare, and carrying it unboxed keeps the API plain.
    #[allow(clippy::result_large_err)]
    pub fn parse(file: &str, source: &str) -> Result<ParsedManifest, ManifestError> {
        let root = match DeTable::parse(source) {
            Ok(root) => root,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = format!("not valid TOML: {}", e.message().trim_end());
                return Err(SourceMap::new(source, None).error(file, "", span, message));
            }
        };
        let source_map = SourceMap::new(source, Some(&root));
        let raw: raw::Manifest = serde_path_to_error::deserialize(toml::de::Deserializer::from(root))
            .map_err(|e| structural_error(file, &source_map, e))?;
        let manifest = raw.validate().map_err(|(pointer, message)| {
            let span = source_map.span(&pointer).unwrap_or(0..0);
            source_map.error(file, &pointer, span, message)
        })?;
        Ok(ParsedManifest { manifest, source_map })
    }
}

fn structural_error(file: &str, map: &SourceMap, e: serde_path_to_error::Error<toml::de::Error>) -> ManifestError {
    let mut pointer = String::new();
    for segment in e.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => pointer::push(&mut pointer, &index.to_string()),
            serde_path_to_error::Segment::Map { key } => pointer::push(&mut pointer, key),
            serde_path_to_error::Segment::Enum { variant } => pointer::push(&mut pointer, variant),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let inner = e.into_inner();
    let message = inner.message().trim_end().to_owned();
    // serde names a missing field but the path stops at its parent: point at the field.
    if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
        let parent_span = map.span(&pointer).unwrap_or(0..0);
        let mut field_pointer = pointer.clone();
        pointer::push(&mut field_pointer, field);
        return map.error(
            file,
            &field_pointer,
            parent_span,
            format!("missing required field `{}`", dotted(&field_pointer)),
        );
    }
    let span = inner.span().or_else(|| map.span(&pointer)).unwrap_or(0..0);
    let message = if pointer.is_empty() { message } else { format!("{}: {message}", dotted(&pointer)) };
    map.error(file, &pointer, span, message)
}

/// `/scopes/2/name` → `scopes[2].name`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer::tokens(pointer).unwrap_or_default() {
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// Maps JSON Pointers into a manifest to byte ranges and line/column positions.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    line_starts: Vec<usize>,
    source: String,
    spans: HashMap<String, Range<usize>>,
}

impl SourceMap {
    fn new(source: &str, root: Option<&Spanned<DeTable<'_>>>) -> Self {
        let line_starts = std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut spans = HashMap::new();
        if let Some(root) = root {
            spans.insert(String::new(), root.span());
            index_table(&mut spans, String::new(), root.get_ref());
        }
        SourceMap { line_starts, source: source.to_owned(), spans }
    }

    /// The manifest's source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The byte range of the value at `pointer`, or of its nearest enclosing value that exists.
    pub fn span(&self, pointer: &str) -> Option<Range<usize>> {
        let mut pointer = pointer;
        loop {
            if let Some(span) = self.spans.get(pointer) {
                return Some(span.clone());
            }
            pointer = &pointer[..pointer.rfind('/')?];
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.source.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        (line + 1, column)
    }

    fn error(&self, file: &str, pointer: &str, span: Range<usize>, message: String) -> ManifestError {
        let (line, column) = self.line_column(span.start);
        ManifestError {
            file: file.to_owned(),
            line,
            column,
            field: dotted(pointer),
            pointer: pointer.to_owned(),
            message,
            span,
        }
    }
}

fn index_table(spans: &mut HashMap<String, Range<usize>>, at: String, table: &DeTable<'_>) {
    for (key, value) in table {
        let mut pointer = at.clone();
        pointer::push(&mut pointer, key.get_ref());
        index_value(spans, pointer, value);
    }
}

fn index_value(spans: &mut HashMap<String, Range<usize>>, pointer: String, value: &Spanned<DeValue<'_>>) {
    spans.insert(pointer.clone(), value.span());
    match value.get_ref() {
        DeValue::Table(table) => index_table(spans, pointer, table),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                index_value(spans, format!("{pointer}/{i}"), item);
            }
        }
        _ => {}
    }
}

/// The shape serde checks; validated into [`Manifest`].
mod raw {
    use serde::Deserialize;

    use super::{DataShare, Plan, PricingModel, Scope};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct Manifest {
        pub slug: String,
        pub name: String,
        pub version: String,
        pub summary: String,
        pub description: String,
        pub category: String,
        #[serde(default)]
        pub keywords: Vec<String>,
        pub api_version: String,
        #[serde(default)]
        pub urls: Urls,
        #[serde(default)]
        pub support: Support,
        pub pricing: Pricing,
        #[serde(default)]
        pub scopes: Vec<Scope>,
        #[serde(default)]
        pub webhooks: Vec<Webhook>,
        #[serde(default)]
        pub data_shared: Vec<DataShare>,
        pub check: Option<Check>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct Urls {
        pub homepage: Option<String>,
        pub privacy_policy: Option<String>,
        pub terms: Option<String>,
        pub support: Option<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct Support {
        pub email: Option<String>,
        pub url: Option<String>,
        pub phone: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct Pricing {
        pub model: PricingModel,
        pub trial_days: Option<u32>,
        #[serde(default)]
        pub plans: Vec<Plan>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Webhook {
        pub topic: String,
        pub url: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Check {
        pub component: String,
    }
}

type Invalid = (String, String);

fn url(pointer: &str, value: &str) -> Result<url::Url, Invalid> {
    url::Url::parse(value)
        .map_err(|e| (pointer.to_owned(), format!("{}: `{value}` is not a valid absolute URL ({e})", dotted(pointer))))
}

fn optional_url(pointer: &str, value: Option<String>) -> Result<Option<url::Url>, Invalid> {
    value.map(|v| url(pointer, &v)).transpose()
}

impl raw::Manifest {
    fn validate(self) -> Result<Manifest, Invalid> {
        let slug = ListingSlug::parse(&self.slug).map_err(|m| ("/slug".to_owned(), format!("slug: {m}")))?;
        let version = semver::Version::parse(&self.version).map_err(|e| {
            (
                "/version".to_owned(),
                format!(
                    "version: `{}` is not valid semver 2.0 ({e}); write MAJOR.MINOR.PATCH, e.g. 1.4.0",
                    self.version
                ),
            )
        })?;
        let urls = Urls {
            homepage: optional_url("/urls/homepage", self.urls.homepage)?,
            privacy_policy: optional_url("/urls/privacy-policy", self.urls.privacy_policy)?,
            terms: optional_url("/urls/terms", self.urls.terms)?,
            support: optional_url("/urls/support", self.urls.support)?,
        };
        let support = SupportContact {
            email: self.support.email,
            url: optional_url("/support/url", self.support.url)?,
            phone: self.support.phone,
        };
        let webhooks = self
            .webhooks
            .into_iter()
            .enumerate()
            .map(|(i, w)| Ok(Webhook { topic: w.topic, url: url(&format!("/webhooks/{i}/url"), &w.url)? }))
            .collect::<Result<_, Invalid>>()?;
        Ok(Manifest {
            slug,
            name: self.name,
            version,
            summary: self.summary,
            description: self.description,
            category: self.category,
            keywords: self.keywords,
            api_version: self.api_version,
            urls,
            support,
            pricing: Pricing {
                model: self.pricing.model,
                trial_days: self.pricing.trial_days,
                plans: self.pricing.plans,
            },
            scopes: self.scopes,
            webhooks,
            data_shared: self.data_shared,
            check: self.check.map(|c| IntegrationCheck { component: c.component }),
        })
    }
}

#[cfg(test)]
mod tests;
