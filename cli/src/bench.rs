//! `bench`: MH/s of each backend at each thread count, a real rolling search on the
//! embedded header, repeated to show the noise.

use std::time::Duration;

use clap::Args;
use serde::Serialize;
use sha256d_engine::scanner::{Control, Scanner, SearchOptions, default_threads};
use sha256d_engine::work::HeaderTemplate;
use sha256d_engine::{Backend, Calibration, Header};

use crate::output::Out;
use crate::scan::EMBEDDED_HEADER;
use crate::{EXIT_OK, Fail, fail, parse, sysinfo};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct BenchArgs {
    /// `all` or one backend name (auto, scalar, sse41, avx2, avx512, shani; any case).
    #[arg(long, value_name = "NAME", default_value = "all")]
    backend: String,
    /// Worker threads: a number, or `all` for every count from 1 to the number of cores.
    #[arg(long, value_name = "N|all", default_value = "1")]
    threads: String,
    /// Seconds to measure each backend at each thread count, per repeat.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    seconds: f64,
    /// Measurements per row; the row gives their median, min and max.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// JSON lines: one {"type":"system"}, then one {"type":"bench"} per row.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonSystem {
    r#type: &'static str,
    cpu: String,
    features: Vec<&'static str>,
    backends: Vec<&'static str>,
    auto: &'static str,
    /// Why `auto` chose it: the calibration's figures.
    calibration: JsonCalibration,
    opt_level: &'static str,
}

/// What `Backend::detect` measured (see `sha256d_engine::Calibration`).
#[derive(Serialize)]
struct JsonCalibration {
    chosen: &'static str,
    fastest: &'static str,
    /// One-thread MH/s per backend, the median of the calibration's short rounds.
    rates: std::collections::BTreeMap<&'static str, f64>,
    /// Rates within this fraction of the fastest tie; ties go to `preference`.
    tie: f64,
    preference: &'static [&'static str],
    elapsed_ms: f64,
}

#[derive(Serialize)]
struct JsonRow {
    r#type: &'static str,
    backend: &'static str,
    threads: usize,
    repeats: u32,
    /// Median over the repeats.
    mhs: f64,
    mhs_min: f64,
    mhs_max: f64,
}

/// Searches the embedded header (rolling version bits when a header's nonces run out)
/// for `seconds` with `threads` threads; returns the total MH/s of all threads.
fn measure(backend: Backend, threads: usize, seconds: f64) -> Result<f64, Fail> {
    let header = Header::from_hex(EMBEDDED_HEADER)?;
    let target = header.target()?;
    let scanner = Scanner::builder()
        .backend(backend)
        .threads(threads)
        .build()?;
    let control = Control::new();
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            // Stop after `seconds`, checking often so a fast search does not wait.
            while control.elapsed().as_secs_f64() < seconds && !control.is_stopped() {
                std::thread::sleep(Duration::from_millis(5));
            }
            control.stop();
        });
        let report = scanner.search(
            &HeaderTemplate::new(header),
            &target,
            &SearchOptions::default(),
            &control,
            |_| {},
        );
        control.stop();
        report
    })?;
    Ok(report.hashes as f64 / control.elapsed().as_secs_f64() / 1e6)
}

/// Median, min and max of a non-empty sample.
fn summarise(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

pub fn run(args: BenchArgs) -> Result<u8, Fail> {
    sysinfo::warn_if_unoptimised();
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err(fail(format!(
            "--seconds {}: must be a positive number",
            args.seconds
        )));
    }
    let thread_counts: Vec<usize> = if args.threads.eq_ignore_ascii_case("all") {
        (1..=default_threads()).collect()
    } else {
        match args.threads.parse::<usize>() {
            Ok(n) if n >= 1 => vec![parse::threads(Some(n))?],
            _ => {
                return Err(fail(format!(
                    "--threads {:?}: expected a number of threads (at least 1) or `all`",
                    args.threads
                )));
            }
        }
    };
    let backends = if args.backend.eq_ignore_ascii_case("all") {
        Backend::all_available()
    } else {
        vec![parse::backend(Some(&args.backend))?]
    };
    let auto = Backend::detect();
    let cal = Backend::calibration();
    let calibration = JsonCalibration {
        chosen: cal.chosen.name(),
        fastest: cal.fastest.name(),
        rates: cal.rates.iter().map(|(b, r)| (b.name(), *r)).collect(),
        tie: Calibration::TIE,
        preference: Backend::PREFERENCE,
        elapsed_ms: cal.elapsed.as_secs_f64() * 1e3,
    };
    let mut out = Out::stdout();
    let system = JsonSystem {
        r#type: "system",
        cpu: sysinfo::cpu_model(),
        features: sysinfo::cpu_features(),
        backends: Backend::all_available().iter().map(|b| b.name()).collect(),
        auto: auto.name(),
        calibration,
        opt_level: sysinfo::OPT_LEVEL,
    };
    if args.json {
        out.json(&system)?;
    } else {
        out.line(&format!("cpu: {}", system.cpu))?;
        out.line(&format!("features: {}", system.features.join(" ")))?;
        out.line(&format!(
            "backends: {} (auto: {})",
            system.backends.join(" "),
            system.auto
        ))?;
        let c = &system.calibration;
        out.line(&format!(
            "auto chose {} (fastest {}) by calibration in {:.0} ms, one thread, MH/s: {}; \
             within {:.0}% of the fastest, the first of {} wins",
            c.chosen,
            c.fastest,
            c.elapsed_ms,
            cal.rates
                .iter()
                .map(|(b, r)| format!("{b} {r:.1}"))
                .collect::<Vec<_>>()
                .join(", "),
            c.tie * 100.0,
            c.preference.join(" > "),
        ))?;
        out.line(&format!(
            "{} s per measurement, median (min - max) of {}",
            args.seconds, args.repeat
        ))?;
        out.line(&format!(
            "{:<14} {:>7} {:>10} {:>23}",
            "backend", "threads", "MH/s", "(min - max)"
        ))?;
    }
    for backend in backends {
        for &threads in &thread_counts {
            let mut samples = Vec::new();
            for _ in 0..args.repeat {
                samples.push(measure(backend, threads, args.seconds)?);
            }
            let (mhs, min, max) = summarise(samples);
            if args.json {
                out.json(&JsonRow {
                    r#type: "bench",
                    backend: backend.name(),
                    threads,
                    repeats: args.repeat,
                    mhs,
                    mhs_min: min,
                    mhs_max: max,
                })?;
            } else {
                let name = if backend == auto {
                    format!("{} (auto)", backend.name())
                } else {
                    backend.name().to_string()
                };
                out.line(&format!(
                    "{name:<14} {threads:>7} {mhs:>10.2} {:>23}",
                    format!("({min:.2} - {max:.2})")
                ))?;
            }
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::summarise;

    #[test]
    fn median_min_max() {
        assert_eq!(summarise(vec![3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(summarise(vec![4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
        assert_eq!(summarise(vec![5.0]), (5.0, 5.0, 5.0));
    }
}
