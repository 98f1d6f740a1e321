//! gob's own `go tool test2json`: turns a test binary's `-test.v=test2json` output into
//! test2json events, as src/cmd/internal/test2json/test2json.go does in stdin mode (`go tool
//! test2json -t -p PKG < output`), so archived test binaries run where no go is installed.
//!
//! The framing: the binary writes `^V` (0x16) before each framing line (`=== RUN`, `---
//! PASS:` …), so output that merely looks like framing stays output. Input is cut into lines
//! of at most 4096 bytes, output events into pieces of at most 1024 (at UTF-8 boundaries);
//! a line that starts a benchmark result is emitted in parts as it comes. Events are encoded
//! as encoding/json does (field order, `omitempty`, HTML-safe string escapes), so the lines
//! equal go's byte for byte except for their `Time` and the package's `Elapsed`.

/// The framing marker.
const MARKER: u8 = 0x16;
/// The most input held for one line (`inBuffer`).
const IN_BUFFER: usize = 4096;
/// The most output in one `output` event (`outBuffer`).
const OUT_BUFFER: usize = 1024;

const UPDATES: &[&[u8]] = &[
    b"=== RUN   ",
    b"=== PAUSE ",
    b"=== CONT  ",
    b"=== NAME  ",
    b"=== PASS  ",
    b"=== FAIL  ",
    b"=== SKIP  ",
    b"=== ATTR  ",
    b"=== ARTIFACTS ",
];
const REPORTS: &[&[u8]] = &[b"--- PASS: ", b"--- FAIL: ", b"--- SKIP: ", b"--- BENCH: "];

/// One event, with the fields go writes.
#[derive(Debug, Clone, Default, PartialEq)]
struct Event {
    time: Option<String>,
    action: String,
    package: String,
    test: String,
    elapsed: Option<f64>,
    output: Option<Vec<u8>>,
    failed_build: String,
    key: String,
    value: String,
    path: String,
}

/// A piece of buffered input: a whole line (with its newline), or part of a long one.
enum Piece {
    Line(Vec<u8>),
    Part(Vec<u8>),
}

/// test2json's `lineBuffer`: whole lines up to its capacity, parts of longer ones.
struct LineBuffer {
    b: Vec<u8>,
    cap: usize,
    mid: bool,
}

impl LineBuffer {
    fn new(cap: usize) -> LineBuffer {
        LineBuffer {
            b: Vec::with_capacity(cap),
            cap,
            mid: false,
        }
    }

    fn write(&mut self, mut data: &[u8], pieces: &mut Vec<Piece>) {
        while !data.is_empty() {
            let m = (self.cap - self.b.len()).min(data.len());
            self.b.extend_from_slice(&data[..m]);
            data = &data[m..];
            let mut i = 0;
            while i < self.b.len() {
                let Some((j, width)) = index_eol(&self.b[i..]) else {
                    if !self.mid
                        && let Some(j) = self.b[i..].iter().position(|&c| c == b'\t')
                        && is_benchmark_name(trim_right_spaces(&self.b[i..i + j]))
                    {
                        pieces.push(Piece::Part(self.b[i..i + j + 1].to_vec()));
                        self.mid = true;
                        i += j + 1;
                    }
                    break;
                };
                let end = i + j + width;
                let piece = self.b[i..end].to_vec();
                pieces.push(match self.mid {
                    true => Piece::Part(piece),
                    false => Piece::Line(piece),
                });
                self.mid = false;
                i = end;
            }
            if i == 0 && self.b.len() == self.cap {
                let t = trim_utf8(&self.b);
                pieces.push(Piece::Part(self.b[..t].to_vec()));
                self.b.drain(..t);
                self.mid = true;
            }
            if i > 0 {
                self.b.drain(..i);
            }
        }
    }

    fn flush(&mut self, pieces: &mut Vec<Piece>) {
        if !self.b.is_empty() {
            pieces.push(Piece::Part(std::mem::take(&mut self.b)));
        }
    }
}

/// The end of the next line: `\n` (width 1), or just before a `^V` that does not start it
/// (width 0: the marker begins the next line).
fn index_eol(b: &[u8]) -> Option<(usize, usize)> {
    b.iter().enumerate().find_map(|(i, &c)| match c {
        b'\n' => Some((i, 1)),
        MARKER if i > 0 => Some((i, 0)),
        _ => None,
    })
}

fn trim_right_spaces(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
    &b[..end]
}

/// `Benchmark`, or `Benchmark` followed by a character that is not a lower-case letter.
fn is_benchmark_name(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"Benchmark") else {
        return false;
    };
    match String::from_utf8_lossy(rest).chars().next() {
        None => true,
        Some(c) => !c.is_lowercase(),
    }
}

/// The longest prefix of `b` that does not end inside a UTF-8 sequence.
fn trim_utf8(b: &[u8]) -> usize {
    for i in 1..4.min(b.len() + 1) {
        let c = b[b.len() - i];
        if c & 0xc0 != 0x80 {
            let needed = match c {
                _ if c & 0xe0 == 0xc0 => 2,
                _ if c & 0xf0 == 0xe0 => 3,
                _ if c & 0xf8 == 0xf0 => 4,
                _ => 0,
            };
            return if i < needed { b.len() - i } else { b.len() };
        }
    }
    b.len()
}

/// A conversion in progress: feed it the binary's output, take the event lines it returns.
pub struct Converter {
    package: String,
    now: Box<dyn Fn() -> String + Send>,
    started: std::time::Instant,
    test_name: String,
    report: Vec<Event>,
    result: Option<&'static str>,
    input: LineBuffer,
    output: LineBuffer,
    need_marker: bool,
    lines: Vec<String>,
}

impl Converter {
    /// A converter for `package` that stamps events with `now()` (test2json's `-t`).
    pub fn new(package: &str, now: Box<dyn Fn() -> String + Send>) -> Converter {
        let mut converter = Converter {
            package: package.to_string(),
            now,
            started: std::time::Instant::now(),
            test_name: String::new(),
            report: Vec::new(),
            result: None,
            input: LineBuffer::new(IN_BUFFER),
            output: LineBuffer::new(OUT_BUFFER),
            need_marker: false,
            lines: Vec::new(),
        };
        converter.write_event(Event {
            action: "start".into(),
            ..Event::default()
        });
        converter
    }

    /// Feeds output bytes; returns the event lines (JSON, no newline) they completed.
    pub fn write(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut pieces = Vec::new();
        self.input.write(bytes, &mut pieces);
        self.take_input(pieces);
        std::mem::take(&mut self.lines)
    }

    /// Ends the input: the pending output, then the package's result when one was seen,
    /// with the time since the converter started.
    pub fn close(self) -> Vec<String> {
        let elapsed = self.started.elapsed().as_secs_f64();
        self.close_after(elapsed)
    }

    /// [`Converter::close`] for output that was produced elsewhere and fed at once: the
    /// package's result says `seconds` (the time the binary ran).
    pub fn close_after(mut self, seconds: f64) -> Vec<String> {
        let mut pieces = Vec::new();
        self.input.flush(&mut pieces);
        self.take_input(pieces);
        self.flush_output();
        if let Some(result) = self.result {
            let elapsed = (seconds * 1000.0).round() / 1000.0;
            self.write_event(Event {
                action: result.into(),
                elapsed: Some(elapsed),
                ..Event::default()
            });
        }
        self.lines
    }

    fn take_input(&mut self, pieces: Vec<Piece>) {
        for piece in pieces {
            match piece {
                Piece::Line(line) => self.input_line(&line),
                Piece::Part(part) => self.write_output(&part),
            }
        }
    }

    fn write_output(&mut self, bytes: &[u8]) {
        let mut pieces = Vec::new();
        self.output.write(bytes, &mut pieces);
        self.output_events(pieces);
    }

    fn flush_output(&mut self) {
        let mut pieces = Vec::new();
        self.output.flush(&mut pieces);
        self.output_events(pieces);
    }

    fn output_events(&mut self, pieces: Vec<Piece>) {
        for piece in pieces {
            let (Piece::Line(bytes) | Piece::Part(bytes)) = piece;
            self.write_event(Event {
                action: "output".into(),
                output: Some(bytes),
                ..Event::default()
            });
        }
    }

    /// test2json's `handleInputLine`.
    fn input_line(&mut self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if self.need_marker && line[0] != MARKER {
            self.write_output(line);
            return;
        }
        let saw_marker = line[0] == MARKER;
        let mut line = line;
        if saw_marker {
            self.flush_output();
            line = &line[1..];
        }
        let mut trim = line.strip_suffix(b"\n").unwrap_or(line);
        if line.ends_with(b"\n") {
            trim = trim.strip_suffix(b"\r").unwrap_or(trim);
        }
        if trim == b"=== NAME" {
            line = b"=== NAME  \n";
            trim = b"=== NAME  ";
        }
        if trim == b"PASS" || trim == b"FAIL" || trim.starts_with(b"FAIL\t") {
            self.flush_report(0);
            self.test_name.clear();
            self.need_marker = saw_marker;
            self.write_output(line);
            self.result = Some(if trim == b"PASS" { "pass" } else { "fail" });
            return;
        }
        if line.starts_with(b"?   \t")
            && trim.ends_with(b"\t[no test files]")
            && self.report.is_empty()
        {
            self.result = Some("skip");
        }
        let original = line;
        let mut indent = 0;
        let mut framing = UPDATES.iter().any(|m| line.starts_with(m));
        if !framing {
            while line.starts_with(b"    ") {
                line = &line[4..];
                indent += 1;
            }
            framing = REPORTS.iter().any(|m| line.starts_with(m));
        }
        if !framing {
            if indent > 0 && indent <= self.report.len() {
                self.test_name = self.report[indent - 1].test.clone();
            }
            self.write_output(original);
            return;
        }
        let text = String::from_utf8_lossy(&line[4..]).into_owned();
        let (action, name) = text.split_once(' ').unwrap_or((&text, ""));
        let action = action.strip_suffix(':').unwrap_or(action).to_lowercase();
        let mut name = name.trim().to_string();
        let mut event = Event {
            action: action.clone(),
            ..Event::default()
        };
        if line[0] == b'-' {
            if let Some(i) = name.find(" (") {
                if name.ends_with("s)") {
                    event.elapsed = name[i + 2..name.len() - 2].parse::<f64>().ok();
                }
                name.truncate(i);
            }
            if self.report.len() < indent {
                self.write_output(original);
                return;
            }
            self.need_marker = saw_marker;
            self.flush_report(indent);
            event.test = name.clone();
            self.test_name = name;
            self.report.push(event);
            self.write_output(original);
            return;
        }
        match action.as_str() {
            "artifacts" => {
                let (test, path) = split_once_owned(&name);
                event.path = path;
                name = test;
            }
            "attr" => {
                let (test, rest) = split_once_owned(&name);
                let (key, value) = split_once_owned(&rest);
                event.key = key;
                event.value = value;
                name = test;
            }
            _ => {}
        }
        self.need_marker = saw_marker;
        self.flush_report(0);
        self.test_name = name;
        if action == "name" {
            return;
        }
        if action == "pause" {
            self.write_output(original);
        }
        self.write_event(event);
        if action != "pause" {
            self.write_output(original);
        }
    }

    fn flush_report(&mut self, depth: usize) {
        self.test_name.clear();
        while self.report.len() > depth {
            if let Some(event) = self.report.pop() {
                self.write_event(event);
            }
        }
    }

    fn write_event(&mut self, mut event: Event) {
        event.package = self.package.clone();
        event.time = Some((self.now)());
        if event.test.is_empty() {
            event.test = self.test_name.clone();
        }
        self.lines.push(encode(&event));
    }
}

fn split_once_owned(text: &str) -> (String, String) {
    match text.split_once(' ') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (text.to_string(), String::new()),
    }
}

/// An event as encoding/json writes test2json's `event` struct.
fn encode(e: &Event) -> String {
    let mut out = String::from("{");
    let mut field = |name: &str, value: String| {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&format!("\"{name}\":{value}"));
    };
    if let Some(time) = &e.time {
        field("Time", json_string(time.as_bytes()));
    }
    field("Action", json_string(e.action.as_bytes()));
    for (name, value) in [("Package", &e.package), ("Test", &e.test)] {
        if !value.is_empty() {
            field(name, json_string(value.as_bytes()));
        }
    }
    if let Some(elapsed) = e.elapsed {
        field("Elapsed", json_float(elapsed));
    }
    if let Some(output) = &e.output {
        field("Output", json_string(output));
    }
    for (name, value) in [
        ("FailedBuild", &e.failed_build),
        ("Key", &e.key),
        ("Value", &e.value),
        ("Path", &e.path),
    ] {
        if !value.is_empty() {
            field(name, json_string(value.as_bytes()));
        }
    }
    out.push('}');
    out
}

/// A JSON string as encoding/json writes it: HTML-safe (`<`, `>`, `&` escaped), U+2028 and
/// U+2029 escaped, each invalid UTF-8 byte as U+FFFD.
fn json_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '<' | '>' | '&' | '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                }
                c => out.push(c),
            }
        }
        for _ in chunk.invalid() {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
    out
}

/// A float as encoding/json writes one: the shortest text that reads back the same,
/// exponent form only below 1e-6 or from 1e21.
fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(input: &[u8]) -> Vec<String> {
        let mut c = Converter::new("m/p", Box::new(|| "T".to_string()));
        let mut lines = c.write(input);
        lines.extend(c.close());
        lines
    }

    #[test]
    fn framed_tests_become_run_output_and_result_events() {
        let lines = convert(
            b"\x16=== RUN   TestA\n    a_test.go:3: hi <b>\n\x16--- PASS: TestA (0.01s)\n\x16PASS\n",
        );
        assert_eq!(
            lines,
            [
                r#"{"Time":"T","Action":"start","Package":"m/p"}"#,
                r#"{"Time":"T","Action":"run","Package":"m/p","Test":"TestA"}"#,
                r#"{"Time":"T","Action":"output","Package":"m/p","Test":"TestA","Output":"=== RUN   TestA\n"}"#,
                r#"{"Time":"T","Action":"output","Package":"m/p","Test":"TestA","Output":"    a_test.go:3: hi \u003cb\u003e\n"}"#,
                r#"{"Time":"T","Action":"output","Package":"m/p","Test":"TestA","Output":"--- PASS: TestA (0.01s)\n"}"#,
                r#"{"Time":"T","Action":"pass","Package":"m/p","Test":"TestA","Elapsed":0.01}"#,
                r#"{"Time":"T","Action":"output","Package":"m/p","Output":"PASS\n"}"#,
                r#"{"Time":"T","Action":"pass","Package":"m/p","Elapsed":0}"#,
            ]
        );
    }

    #[test]
    fn floats_and_strings_are_encoded_as_encoding_json_does() {
        assert_eq!(json_float(0.0), "0");
        assert_eq!(json_float(1.5), "1.5");
        assert_eq!(json_float(1e-7), "1e-07");
        assert_eq!(
            json_string(b"a\xffb\x01\xe2\x80\xa8"),
            "\"a\\ufffdb\\u0001\\u2028\""
        );
    }

    #[test]
    fn long_lines_are_split_at_utf8_boundaries() {
        let mut input = vec![b'x'; 1023];
        input.extend("é".as_bytes());
        input.push(b'\n');
        let lines = convert(&input);
        assert_eq!(lines.len(), 3, "start and two output pieces: {lines:?}");
        assert!(lines[1].contains(&"x".repeat(1023)) && !lines[1].contains('é'));
    }
}
