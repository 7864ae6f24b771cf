//! `auto` (Backend::detect) is a measured choice. What can be tested without timing: it
//! picks an available backend, the tie rule holds on its own figures, it runs once per
//! process, and forcing a backend by name or by `SHA256D_BACKEND` still wins.

mod common;

use sha256d_engine::{BACKEND_ENV, Backend, Calibration};

#[test]
fn auto_is_an_available_backend_and_follows_the_tie_rule() {
    let c = Backend::calibration();
    let available = common::backends();
    assert_eq!(
        c.rates.iter().map(|r| r.0).collect::<Vec<_>>(),
        available,
        "every available backend is measured, narrowest first"
    );
    assert!(available.contains(&c.chosen));
    assert_eq!(Backend::detect(), c.chosen);
    assert_eq!(Backend::from_name("auto").unwrap(), c.chosen);
    let best = c.rate(c.fastest).unwrap();
    assert!(c.rates.iter().all(|r| r.1 > 0.0 && r.1 <= best));
    let within = |b: Backend| c.rate(b).unwrap() >= best * (1.0 - Calibration::TIE);
    assert!(
        within(c.chosen),
        "chosen {} is not within the tie",
        c.chosen
    );
    let rank = |b: Backend| Backend::PREFERENCE.iter().position(|n| *n == b.name());
    for (b, _) in &c.rates {
        if within(*b) {
            assert!(
                rank(c.chosen) <= rank(*b),
                "{b} ties and is preferred to {}",
                c.chosen
            );
        }
    }
    println!(
        "calibration: chose {} (fastest {}) in {:?}: {:?}",
        c.chosen, c.fastest, c.elapsed, c.rates
    );
}

#[test]
fn calibration_runs_once_per_process() {
    let a: *const Calibration = Backend::calibration();
    let _ = Backend::detect();
    let b: *const Calibration = Backend::calibration();
    assert!(std::ptr::eq(a, b));
}

#[test]
fn forcing_by_name_wins() {
    for b in Backend::all_available() {
        assert_eq!(Backend::from_name(b.name()).unwrap(), b);
        assert_eq!(Backend::from_name(&b.name().to_uppercase()).unwrap(), b);
    }
}

/// `SHA256D_BACKEND` is read by `Backend::from_env`. Setting a variable inside this test
/// process would race with other tests, so a child process runs the check.
#[test]
fn forcing_by_environment_wins() {
    let exe = std::env::current_exe().unwrap();
    for name in ["scalar", "SCALAR"] {
        let out = std::process::Command::new(&exe)
            .args(["--exact", "from_env_child", "--nocapture"])
            .args(["--include-ignored"])
            .env(BACKEND_ENV, name)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("from_env=scalar"), "{stdout}");
    }
    let out = std::process::Command::new(&exe)
        .args(["--exact", "from_env_child", "--nocapture"])
        .args(["--include-ignored"])
        .env(BACKEND_ENV, "bogus")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("from_env=error"));
}

/// Run by `forcing_by_environment_wins` in a child process.
#[test]
#[ignore = "run by forcing_by_environment_wins"]
fn from_env_child() {
    match Backend::from_env() {
        Ok(b) => println!("from_env={b}"),
        Err(e) => println!("from_env=error {e}"),
    }
}
