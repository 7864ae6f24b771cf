//! Passes the optimisation level to the binary, which warns when it was built without
//! optimisation (an unoptimised build hashes 50 to 100 times slower).

fn main() {
    let opt = std::env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=SHA256D_CLI_OPT_LEVEL={opt}");
    println!("cargo:rerun-if-changed=build.rs");
}
