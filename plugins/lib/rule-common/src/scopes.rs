//! The platform's scope catalogue: `read_<resource>` and `write_<resource>` for each resource.
//! `scopes.known` checks scopes against it and `scopes.webhook-access` tells resource topics
//! from others with it, so both must read the same list.

/// The resources of the platform's scope catalogue; each has a `read_` and a `write_` scope.
pub const RESOURCES: &[&str] = &[
    "shop",
    "products",
    "orders",
    "customers",
    "inventory",
    "fulfillments",
    "discounts",
    "webhooks",
    "analytics",
    "themes",
];

/// What a scope name grants access to: `<resource>` of `read_<resource>` or `write_<resource>`,
/// as written (not checked against [`RESOURCES`], not trimmed or lower-cased); `None` for any
/// other name.
///
/// ```
/// assert_eq!(rule_common::scopes::scoped_resource("write_orders"), Some("orders"));
/// assert_eq!(rule_common::scopes::scoped_resource("orders"), None);
/// ```
pub fn scoped_resource(name: &str) -> Option<&str> {
    name.strip_prefix("read_").or_else(|| name.strip_prefix("write_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_write_prefixes_name_a_resource() {
        assert_eq!(scoped_resource("read_orders"), Some("orders"));
        assert_eq!(scoped_resource("write_inventory"), Some("inventory"));
        assert_eq!(scoped_resource("read_order"), Some("order"), "a misspelt resource is still the resource part");
        assert_eq!(scoped_resource("read_"), Some(""));
        assert_eq!(scoped_resource("Read_Orders"), None, "prefixes are matched as written");
        assert_eq!(scoped_resource(" read_orders"), None);
        assert_eq!(scoped_resource("orders:read"), None);
    }

    #[test]
    fn the_catalogue_is_lower_case_and_has_no_repeats() {
        for (i, resource) in RESOURCES.iter().enumerate() {
            assert_eq!(*resource, resource.to_ascii_lowercase());
            assert!(!RESOURCES[..i].contains(resource), "{resource} twice");
        }
    }
}
