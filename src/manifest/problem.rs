//! One located problem in `gobuild.toml`, rendered by miette with a snippet of the file.
//!
//! Every stage that validates the manifest (the TOML reader, the workspace check) reports
//! `Problem`s; the boundary renders them all at once, so the user fixes everything in one pass.

use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

/// A byte range in the manifest source.
pub type Span = Range<usize>;

/// What is wrong, where, and (when gob can tell) how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// One sentence naming the field and what is wrong with it.
    pub message: String,
    /// Where in the manifest the problem is.
    pub span: Span,
    /// Short text shown under the snippet.
    pub label: String,
    /// Optional fix, e.g. "did you mean `flags`?".
    pub help: Option<String>,
    /// Other places involved (e.g. the first of two binaries with the same name).
    pub related: Vec<(Span, String)>,
}

impl Problem {
    /// A problem at `span` with a message and a label.
    pub fn new(span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            span,
            label: label.into(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Adds a hint on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a second labelled place in the same file.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
}

/// A [`Problem`] bound to the manifest's text, ready for miette to render.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(gob::manifest))]
pub struct ProblemReport {
    message: String,
    #[source_code]
    src: NamedSource<Arc<String>>,
    #[label(collection)]
    labels: Vec<LabeledSpan>,
    #[help]
    help: Option<String>,
}

impl ProblemReport {
    /// Binds `problem` to the manifest text named `name`.
    pub fn new(problem: &Problem, name: &str, text: Arc<String>) -> Self {
        let clamp = |span: &Span| -> SourceSpan {
            let start = span.start.min(text.len());
            let end = span.end.clamp(start, text.len());
            (start, end - start).into()
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(problem.label.clone()),
            clamp(&problem.span),
        )];
        labels.extend(
            problem
                .related
                .iter()
                .map(|(span, label)| LabeledSpan::new_with_span(Some(label.clone()), clamp(span))),
        );
        ProblemReport {
            message: problem.message.clone(),
            src: NamedSource::new(name, text.clone()).with_language("toml"),
            labels,
            help: problem.help.clone(),
        }
    }
}

/// `line:col` (1-based) of a byte offset, for tests that check positions.
#[cfg(test)]
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 4));
    }
}
