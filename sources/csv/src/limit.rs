//! The bound on line length: a reader that stops with an error as soon as one line passes
//! `max_line_bytes`, so that a file that is not a CSV export (or a 2 GB line) is refused
//! before that line is held in memory.

use std::io::{self, Read};

/// Passes bytes through, counting the bytes of the current line.
pub(crate) struct LineLimit<R> {
    inner: R,
    max: u64,
    /// The current line, 1-based.
    line: u64,
    /// Bytes of the current line seen so far, its `\n` excluded.
    used: u64,
    /// Set once the bound was passed: every later read fails the same way.
    failed: Option<LineTooLong>,
}

impl<R> LineLimit<R> {
    pub(crate) fn new(inner: R, max: u64) -> Self {
        Self {
            inner,
            max,
            line: 1,
            used: 0,
            failed: None,
        }
    }
}

/// The line that passed the bound; the cause inside the `io::Error` the reader returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line {line} is longer than max_line_bytes = {max} bytes")]
pub(crate) struct LineTooLong {
    /// The physical line, 1-based.
    pub(crate) line: u64,
    /// The bound.
    pub(crate) max: u64,
}

impl LineTooLong {
    /// The bound passed, if that is what `error` is.
    pub(crate) fn find(error: &io::Error) -> Option<Self> {
        error.get_ref()?.downcast_ref::<Self>().copied()
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(failed) = self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, failed));
        }
        let n = self.inner.read(buf)?;
        for chunk in buf[..n].split_inclusive(|b| *b == b'\n') {
            let ends_line = chunk.last() == Some(&b'\n');
            let len = chunk.len() as u64 - u64::from(ends_line);
            if self.used + len > self.max {
                let failed = LineTooLong {
                    line: self.line,
                    max: self.max,
                };
                self.failed = Some(failed);
                return Err(io::Error::new(io::ErrorKind::InvalidData, failed));
            }
            if ends_line {
                self.line += 1;
                self.used = 0;
            } else {
                self.used += len;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], max: u64) -> Result<Vec<u8>, Option<LineTooLong>> {
        let mut out = Vec::new();
        // One byte at a time as well as whole, so that lines split across reads count right.
        let mut reader = LineLimit::new(io::BufReader::with_capacity(3, bytes), max);
        reader.read_to_end(&mut out).map_err(|e| LineTooLong::find(&e))?;
        Ok(out)
    }

    #[test]
    fn lines_up_to_the_bound_pass_and_a_longer_one_is_named() {
        assert_eq!(read_all(b"abcd\nefgh\n\nij", 4).unwrap(), b"abcd\nefgh\n\nij");
        assert_eq!(
            read_all(b"abcd\nefgh\nijklm\nx", 4),
            Err(Some(LineTooLong { line: 3, max: 4 }))
        );
        assert_eq!(read_all(b"abcdefgh", 4), Err(Some(LineTooLong { line: 1, max: 4 })));
    }

    #[test]
    fn an_endless_line_is_refused_after_the_bound_not_read_to_its_end() {
        let mut endless = LineLimit::new(io::repeat(b'x'), 1 << 20);
        let mut sink = Vec::new();
        let error = endless.read_to_end(&mut sink).unwrap_err();
        assert_eq!(LineTooLong::find(&error), Some(LineTooLong { line: 1, max: 1 << 20 }));
        assert!(sink.len() < 2 << 20, "read {} bytes", sink.len());
    }
}
