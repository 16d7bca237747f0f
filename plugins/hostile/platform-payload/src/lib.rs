//! Hostile fixture: an integration check that sends 8 MiB titles to the platform, again and again.
use assay_sdk::platform::{self, ProductDraft};
use assay_sdk::{CheckInput, Finding, Integration, RuleInfo, Severity, export_integration};

struct Payload;

impl Integration for Payload {
    fn info() -> RuleInfo {
        RuleInfo::new("hostile.platform-payload", "Huge platform payloads", "1.0.0", Severity::Error)
    }

    fn run(_: &CheckInput) -> Result<Vec<Finding>, String> {
        let title = "x".repeat(8 << 20);
        loop {
            let draft = ProductDraft { title: title.clone(), price_cents: 100, inventory: 1, tags: vec![] };
            let _ = std::hint::black_box(platform::create_product(&draft));
        }
    }
}

export_integration!(Payload);
