//! `pricing.currency-iso4217`: plans are priced in a real currency, the same one throughout.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct CurrencyIso4217;

/// The active ISO 4217 currency codes (list one, maintained by SIX for ISO), without the codes of
/// funds, precious metals and testing below. Codes being phased out stay until they are withdrawn.
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
    "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
    "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN",
    "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
    "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
    "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];
/// ISO 4217 codes that are not money a merchant pays in: funds, precious metals, special drawing
/// rights and the codes reserved for testing and "no currency", with what each code stands for.
const NOT_MONEY: &[(&str, &str)] = &[
    ("XAU", "for gold"),
    ("XAG", "for silver"),
    ("XPT", "for platinum"),
    ("XPD", "for palladium"),
    ("XDR", "for the IMF's special drawing right"),
    ("XSU", "of the ALBA unit of account"),
    ("XUA", "of the ADB unit of account"),
    ("XBA", "of a European bond-market unit"),
    ("XBB", "of a European bond-market unit"),
    ("XBC", "of a European bond-market unit"),
    ("XBD", "of a European bond-market unit"),
    ("XTS", "reserved for testing"),
    ("XXX", "for \"no currency\""),
    ("BOV", "of a Bolivian fund"),
    ("CHE", "of a Swiss fund"),
    ("CHW", "of a Swiss fund"),
    ("CLF", "of a Chilean unit of account"),
    ("COU", "of a Colombian unit of value"),
    ("MXV", "of a Mexican unit of investment"),
    ("USN", "of US dollar next-day funds"),
    ("UYI", "of a Uruguayan indexed unit"),
    ("UYW", "of a Uruguayan wage index unit"),
];
/// Withdrawn codes and common non-ISO spellings, with the code to use instead.
const REPLACED: &[(&str, &str)] = &[
    ("HRK", "EUR"),
    ("LTL", "EUR"),
    ("LVL", "EUR"),
    ("EEK", "EUR"),
    ("SKK", "EUR"),
    ("DEM", "EUR"),
    ("FRF", "EUR"),
    ("ITL", "EUR"),
    ("ESP", "EUR"),
    ("NLG", "EUR"),
    ("BEF", "EUR"),
    ("ATS", "EUR"),
    ("PTE", "EUR"),
    ("FIM", "EUR"),
    ("IEP", "EUR"),
    ("GRD", "EUR"),
    ("VEF", "VES"),
    ("MRO", "MRU"),
    ("STD", "STN"),
    ("BYR", "BYN"),
    ("ZMK", "ZMW"),
    ("GHC", "GHS"),
    ("TRL", "TRY"),
    ("RUR", "RUB"),
    ("ROL", "RON"),
    ("RMB", "CNY"),
    ("NTD", "TWD"),
    ("UKP", "GBP"),
    ("GGP", "GBP"),
    ("JEP", "GBP"),
    ("IMP", "GBP"),
];

/// Why `code` (three upper-case letters) is not a currency a plan can be billed in.
fn problem(code: &str) -> Option<(String, Option<&'static str>)> {
    if CURRENCIES.contains(&code) {
        return None;
    }
    if let Some((_, what)) = NOT_MONEY.iter().find(|(c, _)| *c == code) {
        return Some((format!("is the ISO 4217 code {what}, not a currency merchants pay in"), None));
    }
    if let Some((_, instead)) = REPLACED.iter().find(|(c, _)| *c == code) {
        return Some(("is not an active ISO 4217 currency code".to_owned(), Some(instead)));
    }
    Some(("is not an ISO 4217 currency code".to_owned(), None))
}

impl Rule for CurrencyIso4217 {
    fn info() -> RuleInfo {
        RuleInfo::new("pricing.currency-iso4217", "Plans in one real ISO 4217 currency", "1.0.0", Severity::Error)
            .description(
                "Every plan's currency is an active ISO 4217 currency code that merchants pay in (not a \
                 withdrawn code such as HRK, a made-up one such as RMB or BTC, or a fund, metal or testing \
                 code such as XAU or XTS); a listing whose plans mix currencies is a warning, because \
                 merchants cannot compare them. Codes that are not three upper-case letters are \
                 pricing.consistency's to report.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let plans = &input.listing.pricing.plans;
        let mut findings = Vec::new();
        let mut first_valid: Option<(usize, &str)> = None;
        for (i, plan) in plans.iter().enumerate() {
            let code = plan.currency.as_str();
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                continue;
            }
            let at = pointer(["pricing", "plans", &i.to_string(), "currency"]);
            let name = &plan.name;
            if let Some((why, instead)) = problem(code) {
                let remediation = match instead {
                    Some(code) => format!("Use `{code}`, the ISO 4217 code in use for that currency."),
                    None => {
                        "Price the plan in the currency you bill in, written as its ISO 4217 code, e.g. USD or EUR."
                            .to_owned()
                    }
                };
                findings.push(
                    finding(at, format!("plan `{name}` is priced in `{code}`, which {why}")).remediation(remediation),
                );
                continue;
            }
            match first_valid {
                None => first_valid = Some((i, code)),
                Some((j, first)) if first != code => findings.push(
                    finding(
                        at,
                        format!(
                            "plan `{name}` is priced in `{code}` but plan `{}` (at /pricing/plans/{j}) in `{first}`; \
                             merchants cannot compare plans in different currencies",
                            plans[j].name
                        ),
                    )
                    .remediation(format!("Price every plan in the same currency, e.g. `{first}`."))
                    .severity(Severity::Warning),
                ),
                Some(_) => {}
            }
        }
        Ok(findings)
    }
}

export_rule!(CurrencyIso4217);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_active_codes_and_why_others_fail() {
        for code in ["USD", "EUR", "GBP", "JPY", "CHF", "SLE", "VED", "ZWG"] {
            assert_eq!(problem(code), None, "{code}");
        }
        assert_eq!(problem("HRK").map(|p| p.1), Some(Some("EUR")));
        assert_eq!(problem("RMB").map(|p| p.1), Some(Some("CNY")));
        assert!(problem("XAU").is_some_and(|p| p.0.contains("gold")));
        assert!(problem("XTS").is_some_and(|p| p.0.contains("testing")));
        assert!(problem("BTC").is_some_and(|p| p.0 == "is not an ISO 4217 currency code"));
    }

    #[test]
    fn the_lists_are_sorted_and_disjoint() {
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]), "CURRENCIES is sorted, so duplicates show");
        for (code, _) in NOT_MONEY.iter().chain(REPLACED) {
            assert!(!CURRENCIES.contains(code), "{code} is both active and not");
        }
    }
}
