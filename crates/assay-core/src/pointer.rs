//! JSON Pointers (RFC 6901): how findings and manifest errors say where they are.

/// Append one reference token to `pointer`, escaping `~` and `/`.
pub fn push(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Split a pointer into its unescaped reference tokens. `None` when it is not a pointer
/// (non-empty and not starting with `/`).
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes() {
        let mut p = String::new();
        push(&mut p, "webhooks");
        push(&mut p, "a/b~c");
        assert_eq!(p, "/webhooks/a~1b~0c");
        assert_eq!(tokens(&p).unwrap(), ["webhooks", "a/b~c"]);
        assert_eq!(tokens("").unwrap(), Vec::<String>::new());
        assert_eq!(tokens("scopes"), None);
    }
}
