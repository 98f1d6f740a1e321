//! Hiding credentials before anything is printed: a URL's `user:password@` becomes `***@`,
//! wherever the URL appears in a message, an env value or a command line.

/// `text` with the user info of every `scheme://user:pass@host` in it replaced by `***`.
pub fn credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'' || c == '"'
            })
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(user_end) => {
                out.push_str("***");
                rest = &after[user_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_hidden_wherever_they_appear() {
        assert_eq!(
            credentials("https://me:secret@host/x@y"),
            "https://***@host/x@y"
        );
        assert_eq!(
            credentials(
                "gob cacheprog --remote http://u:p@127.0.0.1:9/c --timeout 1s; GET http://a:b@h/ac/1 failed"
            ),
            "gob cacheprog --remote http://***@127.0.0.1:9/c --timeout 1s; GET http://***@h/ac/1 failed"
        );
        assert_eq!(credentials("http://host:80/p"), "http://host:80/p");
        assert_eq!(credentials("no url, a@b"), "no url, a@b");
        assert_eq!(credentials("'http://u:p@h'"), "'http://***@h'");
    }
}
