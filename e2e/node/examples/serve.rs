//! Runs the test node until killed, for trying `mine --node` by hand:
//! `cargo run --example serve` prints the URL and the cookie file.

fn main() {
    let node = sha256d_engine_e2e_node::TestNode::start();
    println!("{} {}", node.url(), node.cookie().display());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(5));
        eprintln!("height {}", node.height());
    }
}
