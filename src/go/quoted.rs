//! How go splits a flag value or env var that holds a command line (`-exec`,
//! `GOCACHEPROG`, `GOFLAGS`): cmd/internal/quoted `Split` breaks on spaces and honours single
//! and double quotes, with no escapes inside. [`split`] and [`join`] mirror `quoted.Split`
//! and `quoted.Join` (src/cmd/internal/quoted/quoted.go).

/// The words go reads from `text`; `None` for an unterminated quote (go refuses it too).
pub fn split(text: &str) -> Option<Vec<String>> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut words = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_space);
        let Some(first) = rest.chars().next() else {
            return Some(words);
        };
        if first == '"' || first == '\'' {
            let (word, after) = rest[1..].split_once(first)?;
            words.push(word.to_string());
            rest = after;
        } else {
            let end = rest.find(is_space).unwrap_or(rest.len());
            words.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
}

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
    fn split_reads_what_go_reads() {
        assert_eq!(
            split(" -count=1\t'-ldflags=-s -w' \"-tags=a b\"x -v ").unwrap(),
            ["-count=1", "-ldflags=-s -w", "-tags=a b", "x", "-v"]
        );
        assert_eq!(split("").unwrap(), Vec::<String>::new());
        assert_eq!(split("-x 'open"), None);
        for words in [vec!["/my dir/gob", "it's", "-v"], vec!["say \"x\"", "a\tb"]] {
            assert_eq!(split(&join(&words)).unwrap(), words);
        }
    }

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
