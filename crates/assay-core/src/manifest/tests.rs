use super::*;

const CLEAN: &str = r#"slug = "acme-stock-sync"
name = "Acme Stock Sync"
version = "1.2.0"
summary = "Keep stock levels in sync across warehouses"
description = "Syncs inventory."
category = "inventory"
keywords = ["inventory", "stock"]
api-version = "2026-07"

[urls]
homepage = "https://acme.example/"
privacy-policy = "https://acme.example/privacy"

[support]
email = "help@acme.example"

[pricing]
model = "subscription"
trial-days = 14

[[pricing.plans]]
name = "Pro"
price-cents = 1900
currency = "USD"
interval = "month"

[[scopes]]
name = "read_products"
justification = "Reads stock levels."

[[scopes]]
name = "write_products"
justification = "Updates stock levels."

[[webhooks]]
topic = "orders/create"
url = "https://acme.example/hooks/orders"
"#;

/// Parse `CLEAN` with `from` replaced by `to`, expecting an error.
fn check_error(from: &str, to: &str, expect: (usize, usize, &str, &str)) {
    assert!(CLEAN.contains(from), "fixture does not contain {from:?}");
    let source = CLEAN.replacen(from, to, 1);
    let err = Manifest::parse("listing.toml", &source).expect_err("manifest should be refused");
    let (line, column, pointer, message) = expect;
    assert_eq!((err.line, err.column, err.pointer.as_str()), (line, column, pointer), "{err}");
    assert!(err.message.contains(message), "message {:?} lacks {message:?}", err.message);
    assert!(err.to_string().starts_with(&format!("listing.toml:{line}:{column}: ")), "{err}");
}

#[test]
fn parses_a_clean_manifest() {
    let parsed = Manifest::parse("listing.toml", CLEAN).unwrap();
    let m = parsed.manifest;
    assert_eq!(m.slug.as_str(), "acme-stock-sync");
    assert_eq!(m.version, semver::Version::new(1, 2, 0));
    assert_eq!(m.pricing.model, PricingModel::Subscription);
    assert_eq!(m.pricing.plans[0].price_cents, 1900);
    assert_eq!(m.scopes[1].name, "write_products");
    assert_eq!(m.webhooks[0].url.as_str(), "https://acme.example/hooks/orders");
    assert_eq!(m.urls.terms, None);
}

#[test]
fn unknown_field_names_the_field() {
    check_error("keywords = ", "colour = \"red\"\nkeywords = ", (7, 1, "/colour", "unknown field `colour`"));
}

#[test]
fn unknown_nested_field_points_into_the_array() {
    check_error(
        "justification = \"Updates stock levels.\"",
        "justification = \"Updates stock levels.\"\nreason = \"x\"",
        (34, 1, "/scopes/1/reason", "unknown field `reason`"),
    );
}

#[test]
fn wrong_type_names_the_field() {
    check_error(
        "price-cents = 1900",
        "price-cents = \"19.00\"",
        (23, 15, "/pricing/plans/0/price-cents", "pricing.plans[0].price-cents"),
    );
}

#[test]
fn invalid_semver_is_located() {
    check_error("version = \"1.2.0\"", "version = \"1.2\"", (3, 11, "/version", "not valid semver"));
}

#[test]
fn malformed_url_is_located() {
    check_error(
        "url = \"https://acme.example/hooks/orders\"",
        "url = \"hooks/orders\"",
        (37, 7, "/webhooks/0/url", "webhooks[0].url: `hooks/orders` is not a valid absolute URL"),
    );
}

#[test]
fn missing_required_field_names_it() {
    check_error(
        "summary = \"Keep stock levels in sync across warehouses\"\n",
        "",
        (1, 1, "/summary", "missing required field `summary`"),
    );
}

#[test]
fn missing_nested_field_points_at_its_table() {
    check_error("model = \"subscription\"\n", "", (17, 1, "/pricing/model", "missing required field `pricing.model`"));
}

#[test]
fn unknown_enum_value_lists_the_choices() {
    check_error(
        "model = \"subscription\"",
        "model = \"donationware\"",
        (18, 9, "/pricing/model", "unknown variant `donationware`"),
    );
}

#[test]
fn invalid_slug_is_refused() {
    check_error("slug = \"acme-stock-sync\"", "slug = \"Acme Stock\"", (1, 8, "/slug", "not a valid slug"));
}

#[test]
fn toml_syntax_errors_are_located() {
    check_error("category = \"inventory\"", "category = inventory", (6, 12, "", "not valid TOML"));
}

#[test]
fn source_map_finds_values_and_falls_back_to_the_parent() {
    let parsed = Manifest::parse("listing.toml", CLEAN).unwrap();
    let map = &parsed.source_map;
    let at = |p: &str| map.span(p).map(|s| map.line_column(s.start));
    assert_eq!(at("/scopes/1/name"), Some((32, 8)));
    assert_eq!(at("/urls/privacy-policy"), Some((12, 18)));
    // `terms` is absent: the nearest enclosing value is the `[urls]` table.
    assert_eq!(at("/urls/terms").map(|(line, _)| line), Some(10));
    assert_eq!(at("/no/such/field"), at(""));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn located(err: &ManifestError, source: &str) {
        assert!(err.line >= 1 && err.column >= 1, "{err:?}");
        assert!(err.line <= source.lines().count().max(1) + 1, "{err:?}");
        assert!(err.span.start <= source.len() && err.span.end <= source.len(), "{err:?}");
        assert!(err.pointer.is_empty() || err.pointer.starts_with('/'), "{err:?}");
        assert!(!err.message.is_empty());
    }

    proptest! {
        /// Any text: a manifest or a located error, never a panic.
        #[test]
        fn arbitrary_text_never_panics(source in ".{0,400}") {
            if let Err(err) = Manifest::parse("listing.toml", &source) {
                located(&err, &source);
            }
        }

        /// The clean manifest with one line replaced by arbitrary TOML-ish text.
        #[test]
        fn mutated_manifests_are_parsed_or_located(line in 0usize..40, text in "[a-z_\\-]{1,12} = (\"[^\"\\\\]{0,20}\"|[0-9]{1,5}|true|\\[\\])") {
            let mut lines: Vec<&str> = CLEAN.lines().collect();
            let at = line % lines.len();
            lines[at] = &text;
            let source = lines.join("\n");
            match Manifest::parse("listing.toml", &source) {
                Ok(parsed) => prop_assert_eq!(parsed.manifest.slug.as_str().is_empty(), false),
                Err(err) => located(&err, &source),
            }
        }
    }
}
