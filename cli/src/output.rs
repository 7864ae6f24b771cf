//! Standard output: every write is checked. A closed pipe ends the program quietly
//! ([`Fail::BrokenPipe`]); any other error (a full disk) is one line.

use std::io::{self, Write};

use serde::Serialize;

use crate::{Fail, fail};

/// The failure for a write error on standard output.
pub fn write_error(e: io::Error) -> Fail {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Fail::BrokenPipe
    } else {
        fail(format!("writing output: {e}"))
    }
}

/// Standard output (or any writer, for buffering), with checked writes.
pub struct Out<W: Write> {
    w: W,
}

impl Out<io::Stdout> {
    /// Standard output, line-buffered: each line is written when it ends, so a hit
    /// printed by `scan` reaches a pipe at once.
    pub fn stdout() -> Self {
        Out { w: io::stdout() }
    }
}

impl Out<io::BufWriter<io::StdoutLock<'static>>> {
    /// Standard output behind a large buffer, for many short lines (`validate`).
    pub fn buffered() -> Self {
        Out {
            w: io::BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        }
    }
}

impl<W: Write> Out<W> {
    /// Writes one line.
    pub fn line(&mut self, s: &str) -> Result<(), Fail> {
        writeln!(self.w, "{s}").map_err(write_error)
    }

    /// Writes one value as a JSON line.
    pub fn json<T: Serialize>(&mut self, v: &T) -> Result<(), Fail> {
        let s = serde_json::to_string(v)?;
        self.line(&s)
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<(), Fail> {
        self.w.flush().map_err(write_error)
    }
}
