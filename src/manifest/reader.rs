//! Typed, located access to a parsed TOML table that records every problem instead of
//! stopping at the first: wrong types, unknown keys (with "did you mean"), missing keys.
//!
//! serde's `deny_unknown_fields` stops at the first error and cannot locate a missing key;
//! gob reports all problems of a manifest at once, so it reads the spanned tree by hand.

use std::collections::BTreeMap;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::problem::{Problem, Span};

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its span in the manifest.
    pub span: Span,
}

/// Reads the keys of one table, remembering which keys were asked for.
pub struct TableReader<'a, 'i> {
    table: &'a DeTable<'i>,
    /// Human name of the table in messages, e.g. `[build]` or `[[binary]] #2`.
    name: String,
    span: Span,
    known: Vec<&'static str>,
}

impl<'a, 'i> TableReader<'a, 'i> {
    /// A reader over `table`, named `name` in messages, written at `span`.
    pub fn new(table: &'a DeTable<'i>, name: impl Into<String>, span: Span) -> Self {
        TableReader {
            table,
            name: name.into(),
            span,
            known: Vec::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.known.push(key);
        self.table.get(key)
    }

    fn wrong_type(
        &self,
        key: &str,
        expected: &str,
        found: &Spanned<DeValue<'_>>,
        problems: &mut Vec<Problem>,
    ) {
        problems.push(Problem::new(
            found.span(),
            format!(
                "`{key}` in {} must be {expected}, found {}",
                self.name,
                found.get_ref().type_str()
            ),
            format!("expected {expected}"),
        ));
    }

    /// An optional scalar that `extract` reads; `expected` names its type in messages.
    fn scalar<T>(
        &mut self,
        key: &'static str,
        expected: &str,
        extract: impl Fn(&DeValue<'i>) -> Option<T>,
        problems: &mut Vec<Problem>,
    ) -> Option<Located<T>> {
        let value = self.get(key)?;
        match extract(value.get_ref()) {
            Some(v) => Some(Located {
                value: v,
                span: value.span(),
            }),
            None => {
                self.wrong_type(key, expected, value, problems);
                None
            }
        }
    }

    /// An optional string.
    pub fn string(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<Located<String>> {
        self.scalar(key, "a string", |v| v.as_str().map(String::from), problems)
    }

    /// A string that must be present.
    pub fn required_string(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<Located<String>> {
        let present = self.table.contains_key(key);
        let value = self.string(key, problems);
        if !present {
            problems.push(Problem::new(
                self.span.clone(),
                format!("{} is missing the required key `{key}`", self.name),
                format!("`{key}` is missing here"),
            ));
        }
        value
    }

    /// An optional boolean.
    pub fn bool(&mut self, key: &'static str, problems: &mut Vec<Problem>) -> Option<bool> {
        self.located_bool(key, problems).map(|l| l.value)
    }

    /// An optional boolean, with where it is written.
    pub fn located_bool(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<Located<bool>> {
        self.scalar(key, "a boolean", DeValue::as_bool, problems)
    }

    /// An optional whole number that is not negative.
    pub fn count(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<Located<u64>> {
        self.scalar(
            key,
            "a whole number (0 or more)",
            |v| {
                let i = v.as_integer()?;
                u64::from_str_radix(i.as_str(), i.radix()).ok()
            },
            problems,
        )
    }

    /// An optional array of strings; each element is located.
    pub fn string_list(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<Vec<Located<String>>> {
        let value = self.get(key)?;
        let Some(array) = value.get_ref().as_array() else {
            self.wrong_type(key, "an array of strings", value, problems);
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        for item in array.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push(Located {
                    value: s.to_string(),
                    span: item.span(),
                }),
                None => self.wrong_type(key, "an array of strings", item, problems),
            }
        }
        Some(out)
    }

    /// An optional table of string values (e.g. `env`).
    pub fn string_map(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<BTreeMap<String, String>> {
        let value = self.get(key)?;
        let Some(table) = value.get_ref().as_table() else {
            self.wrong_type(key, "a table of strings", value, problems);
            return None;
        };
        let mut out = BTreeMap::new();
        for (name, item) in table.iter() {
            match item.get_ref().as_str() {
                Some(s) => {
                    out.insert(name.get_ref().to_string(), s.to_string());
                }
                None => problems.push(Problem::new(
                    item.span(),
                    format!(
                        "`{key}.{}` in {} must be a string, found {}",
                        name.get_ref(),
                        self.name,
                        item.get_ref().type_str()
                    ),
                    "expected a string",
                )),
            }
        }
        Some(out)
    }

    /// An optional sub-table, returned raw with its span.
    pub fn table(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Option<(&'a DeTable<'i>, Span)> {
        let value = self.get(key)?;
        match value.get_ref().as_table() {
            Some(t) => Some((t, value.span())),
            None => {
                self.wrong_type(key, "a table", value, problems);
                None
            }
        }
    }

    /// An optional array of tables (`[[key]]`), each with its span.
    pub fn table_array(
        &mut self,
        key: &'static str,
        problems: &mut Vec<Problem>,
    ) -> Vec<(&'a DeTable<'i>, Span)> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let Some(array) = value.get_ref().as_array() else {
            self.wrong_type(key, "an array of tables", value, problems);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in array.iter() {
            match item.get_ref().as_table() {
                Some(t) => out.push((t, item.span())),
                None => self.wrong_type(key, "an array of tables", item, problems),
            }
        }
        out
    }

    /// Reports every key that no accessor asked for, suggesting the closest known key.
    pub fn finish(self, problems: &mut Vec<Problem>) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref();
            if self.known.contains(&name.as_ref()) {
                continue;
            }
            let mut problem = Problem::new(
                key.span(),
                format!("unknown key `{name}` in {}", self.name),
                "unknown key",
            );
            problem = match closest(name, &self.known) {
                Some(best) => problem.with_help(format!("did you mean `{best}`?")),
                None => problem.with_help(format!("known keys: {}", self.known.join(", "))),
            };
            problems.push(problem);
        }
    }
}

/// The known word closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_typos_only() {
        let known = ["flags", "tags", "ldflags", "env", "out_dir"];
        assert_eq!(closest("flgs", &known), Some("flags"));
        assert_eq!(closest("outdir", &known), Some("out_dir"));
        assert_eq!(closest("zzz", &known), None);
    }
}
