//! Whole numbers written as JSON numbers of any form: JSON has one number type, and many clients
//! (JavaScript's among them) cannot tell `14` from `14.0`, so a field the schema types as
//! `integer` accepts both, and refuses a fraction or a value out of range by name.

use serde::Deserializer;
use serde::de::{Error, Unexpected, Visitor};

/// Deserialize a `u32` from `14`, `14.0` or `1.4e1`; `14.5`, `-1` and `2^32` are errors.
pub(crate) fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    deserializer.deserialize_any(WholeNumber)
}

struct WholeNumber;

impl Visitor<'_> for WholeNumber {
    type Value = u32;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a whole number from 0 to {}", u32::MAX)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<u32, E> {
        if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked just above
            return Ok(v as u32);
        }
        Err(E::invalid_value(Unexpected::Float(v), &self))
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct Days {
        #[serde(deserialize_with = "super::number")]
        days: u32,
    }

    fn days(json: &str) -> Result<u32, String> {
        serde_json::from_str::<Days>(json).map(|d| d.days).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_in_any_form() {
        assert_eq!(days(r#"{"days": 117}"#), Ok(117));
        assert_eq!(days(r#"{"days": 117.0}"#), Ok(117));
        assert_eq!(days(r#"{"days": 1.17e2}"#), Ok(117));
        assert_eq!(days(r#"{"days": 0}"#), Ok(0));
    }

    #[test]
    fn fractions_negatives_and_overflow_are_refused_by_name() {
        for bad in ["117.5", "-1", "4294967296", "4294967296.0", "\"117\"", "null"] {
            let error = days(&format!(r#"{{"days": {bad}}}"#)).unwrap_err();
            assert!(error.contains("whole number") || error.contains("invalid type"), "{bad}: {error}");
        }
    }
}
