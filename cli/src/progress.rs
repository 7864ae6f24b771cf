//! The progress bar of `scan`: on stderr, only when stderr is a terminal (so it shows
//! with `--json` too, whose output goes to stdout), after the scan has run a second.
//!
//! The rate and the time left are computed from the scanner's own count of hashes since
//! the start, not from indicatif's estimate: the first update comes a second into the
//! scan, and an estimator that starts then sees a jump and guesses wrong.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sha256d_engine::scanner::Control;

pub struct Progress {
    enabled: bool,
    total: u64,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar for `total` nonces, shown only when stderr is a terminal.
    pub fn new(total: u64) -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            total,
            bar: None,
        }
    }

    /// Redraws from the scan's counters.
    pub fn update(&mut self, control: &Control, hits: u64) {
        if !self.enabled || control.elapsed() < Duration::from_secs(1) {
            return;
        }
        let total = self.total;
        let bar = self.bar.get_or_insert_with(|| {
            let b = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{bar:40} {percent:>3}% {human_pos}/{human_len} nonces {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            b.set_style(style);
            b
        });
        let done = control.hashes().min(total);
        let rate = control.rate();
        let eta = if rate > 0.0 {
            eta_text((total - done) as f64 / rate)
        } else {
            "?".into()
        };
        bar.set_position(done);
        bar.set_message(format!(
            "{:.2} MH/s, {hits} hit{}, {eta} left",
            rate / 1e6,
            if hits == 1 { "" } else { "s" }
        ));
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// Seconds as `42s`, `3m 05s` or `2h 07m`.
pub fn eta_text(secs: f64) -> String {
    if !secs.is_finite() {
        return "?".into();
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::eta_text;

    #[test]
    fn eta_text_units() {
        assert_eq!(eta_text(0.4), "0s");
        assert_eq!(eta_text(59.0), "59s");
        assert_eq!(eta_text(175.0), "2m 55s");
        assert_eq!(eta_text(7620.0), "2h 07m");
        assert_eq!(eta_text(f64::INFINITY), "?");
    }
}
