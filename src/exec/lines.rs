//! Reading a child's output as lines of bytes: a line that is not UTF-8 is shown lossily and
//! reading goes on (a reader that stopped would close the pipe and kill the child with
//! SIGPIPE on its next write), and a line without a newline is cut into pieces of at most
//! [`MAX_LINE`] bytes so a child cannot make gob hold unbounded memory.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest line handed on whole; longer ones arrive in pieces.
pub const MAX_LINE: usize = 1 << 20;

/// Lines of a byte stream, decoded lossily.
pub struct LossyLines<R> {
    reader: R,
    line: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> LossyLines<R> {
    /// Lines of `reader`.
    pub fn new(reader: R) -> Self {
        LossyLines {
            reader,
            line: Vec::new(),
        }
    }

    /// The next line without its `\n` (or `\r\n`); `None` at the end of the stream.
    pub async fn next_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok((!self.line.is_empty()).then(|| self.take()));
            }
            let room = MAX_LINE - self.line.len();
            match available.iter().take(room).position(|&b| b == b'\n') {
                Some(end) => {
                    self.line.extend_from_slice(&available[..end]);
                    self.reader.consume(end + 1);
                    if self.line.last() == Some(&b'\r') {
                        self.line.pop();
                    }
                    return Ok(Some(self.take()));
                }
                None => {
                    let n = available.len().min(room);
                    self.line.extend_from_slice(&available[..n]);
                    self.reader.consume(n);
                    if self.line.len() >= MAX_LINE {
                        return Ok(Some(self.take()));
                    }
                }
            }
        }
    }

    fn take(&mut self) -> String {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(bytes: &[u8]) -> Vec<String> {
        let mut lines = LossyLines::new(bytes);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn non_utf8_output_is_shown_lossily_and_reading_goes_on() {
        let lines = all(b"warning: caf\xe9\r\nnext line\nlast without newline").await;
        assert_eq!(
            lines,
            ["warning: caf\u{fffd}", "next line", "last without newline"]
        );
    }

    #[tokio::test]
    async fn a_line_longer_than_the_limit_arrives_in_pieces() {
        let mut bytes = vec![b'x'; MAX_LINE + 10];
        bytes.push(b'\n');
        let lines = all(&bytes).await;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1].len(), 10);
    }
}
