//! Go's duration syntax (src/time/format.go `ParseDuration`, `Duration.String`): what the
//! manifest's timeouts, `--grace` and `-test.timeout` take, and how gob writes one back.

use std::time::Duration;

/// The longest duration Go can hold: an int64 of nanoseconds (~2562047h); time.ParseDuration
/// refuses longer ones, and so does gob.
const MAX_GO_DURATION_SECS: f64 = i64::MAX as f64 / 1e9;

/// Parses a Go-style duration ("90s", "10m", "1h30m", "1.5s", "500ms"); `None` for text
/// that is not one, for zero, and for one longer than Go's limit.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    if !(total > 0.0 && total <= MAX_GO_DURATION_SECS) {
        return None;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// A duration as go's flag parser reads it.
pub fn go_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        let s = d.as_secs();
        if s.is_multiple_of(3600) {
            format!("{}h0m0s", s / 3600)
        } else if s.is_multiple_of(60) {
            format!("{}m0s", s / 60)
        } else {
            format!("{s}s")
        }
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("ten minutes"), None);
        assert_eq!(parse_go_duration("0s"), None);
        assert_eq!(
            parse_go_duration("2562047h"),
            Some(Duration::from_secs(2562047 * 3600))
        );
    }

    #[test]
    fn huge_durations_are_refused_not_a_panic() {
        for text in [
            "99999999999999999999h",
            "2562048h",
            "1e400s",
            "9".repeat(400).as_str(),
        ] {
            assert_eq!(parse_go_duration(text), None, "{text}");
        }
    }

    #[test]
    fn durations_print_as_go_reads_them() {
        assert_eq!(go_duration(Duration::from_secs(600)), "10m0s");
        assert_eq!(go_duration(Duration::from_secs(7200)), "2h0m0s");
        assert_eq!(go_duration(Duration::from_secs(90)), "90s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
    }
}
