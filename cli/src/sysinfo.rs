//! What `bench` says about the machine, and the warning for an unoptimised build.

/// The CPU's model name (Linux: `/proc/cpuinfo`), or `unknown`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The instruction-set extensions that matter to the backends, as detected at run time.
pub fn cpu_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    found.push($f);
                }
            )*};
        }
        probe!(
            "sse4.1", "ssse3", "avx2", "bmi2", "sha", "avx512f", "avx512vl"
        );
    }
    found
}

/// The optimisation level this binary was built with.
pub const OPT_LEVEL: &str = env!("SHA256D_CLI_OPT_LEVEL");

/// Warns on stderr when the binary was built without optimisation.
pub fn warn_if_unoptimised() {
    if OPT_LEVEL == "0" {
        eprintln!(
            "warning: this sha256d-engine was built without optimisation and hashes 50 to 100 \
             times slower; build with --release"
        );
    }
}
