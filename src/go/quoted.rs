//! How go splits a flag value or env var that holds a command line (`-toolexec`,
//! `GOCACHEPROG`): cmd/internal/quoted `Split` breaks on spaces and honours single and
//! double quotes, with no escapes inside. [`join`] writes words it reads back unchanged,
//! mirroring `quoted.Join` (src/cmd/internal/quoted/quoted.go).

/// `words` as one string go's `quoted.Split` reads back as the same words. A word holding
/// both quote kinds cannot be written (go's own `Join` refuses it); it is single-quoted.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(word: &str) -> String {
    let space = word.contains([' ', '\t', '\n', '\r']);
    let single = word.contains('\'');
    let double = word.contains('"');
    match (space || single || double, single) {
        (false, _) if !word.is_empty() => word.to_string(),
        (_, true) if !double => format!("\"{word}\""),
        _ => format!("'{word}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_go_would_split_them() {
        assert_eq!(
            join(&["/usr/bin/gob", "cacheprog"]),
            "/usr/bin/gob cacheprog"
        );
        assert_eq!(join(&["/my dir/gob"]), "'/my dir/gob'");
        assert_eq!(join(&["it's here/gob"]), "\"it's here/gob\"");
        assert_eq!(join(&["say \"x\""]), "'say \"x\"'");
        assert_eq!(join(&["a\tb"]), "'a\tb'");
    }
}
