//! What a refused lifecycle request broke: the rule, the field and why.

use jiff::civil::Date;

/// A lifecycle policy rule a request breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (rule {rule})")]
pub struct PolicyViolation {
    /// The rule's stable id, e.g. `notice.breaking-lead-time`.
    pub rule: &'static str,
    /// A JSON Pointer to the field at fault, in the request.
    pub pointer: &'static str,
    /// What is wrong, with the figures, and what would be allowed.
    pub message: String,
}

impl PolicyViolation {
    pub(crate) fn new(rule: &'static str, pointer: &'static str, message: String) -> PolicyViolation {
        PolicyViolation { rule, pointer, message }
    }
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    from.until((jiff::Unit::Day, to)).map_or(0, |span| i64::from(span.get_days()))
}

/// `Display` and `FromStr` for an enum with `ALL` and `as_str`; unknown names list the known ones.
macro_rules! named {
    ($ty:ty, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    let known: Vec<_> = <$ty>::ALL.iter().map(|v| v.as_str()).collect();
                    format!("`{s}` is not a {}; use one of: {}", $what, known.join(", "))
                })
            }
        }
    };
}

pub(crate) use named;
