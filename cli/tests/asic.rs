//! `asic`: real chip results from the shared test data, one verdict per line, checked
//! against the hashes and difficulties that the test data records.

mod common;

use std::io::Write as _;
use std::process::Stdio;

use common::{bin, json_lines, stderr};
use serde_json::{Value, json};
use sha256d_engine::Header;
use sha256d_engine::asic::{ChipFamily, ChipResult};

fn load(dir: &std::path::Path, rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(rel)).unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

#[test]
fn asic_results_from_the_test_data() {
    let Some(dir) = common::testdata("asic CLI") else {
        return;
    };
    let icarus = load(&dir, "asic/cgminer_icarus_golden_nonce.json");
    let bm1366 = load(&dir, "asic/espminer_bm1366_block839900_version_rolled.json");
    let cgminer = load(&dir, "asic/cgminer_bench_work_32_shares.json");

    // (input line, expected hash or None for a malformed line)
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    lines.push((
        json!({"kind": "icarus", "work": icarus["golden_ob_icarus"],
               "nonce": icarus["golden_nonce_bytes"]})
        .to_string(),
        Some("00000000000004b64108a8e4168cfaa890d62b8c061c6b74305b7f6cb2cf9fda".into()),
    ));
    let block_hash = s(&bm1366["expected_block_hash"]).to_string();
    let header = Header::from_hex(s(&bm1366["computed"]["header_hex"])).unwrap();
    lines.push((
        json!({"kind": "header", "header": header.to_hex()}).to_string(),
        Some(block_hash.clone()),
    ));
    // The chip's frame for that block: the job's header has the unrolled version; the
    // frame carries the rolled bits (0x2a966000 ^ 0x20000000) >> 13 and the nonce.
    let job = Header {
        version: 0x2000_0000,
        nonce: 0,
        ..header
    };
    let frame = ChipResult {
        family: ChipFamily::Bm1366,
        nonce: header.nonce,
        midstate_num: 0,
        id: 0x2d,
        version_field: ((0x2a96_6000u32 ^ 0x2000_0000) >> 13) as u16,
    }
    .to_frame();
    let frame_hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    lines.push((
        json!({"kind": "bm13xx", "family": "BM1366", "job": job.to_hex(), "frame": frame_hex})
            .to_string(),
        Some(block_hash.clone()),
    ));
    for item in cgminer["items"].as_array().unwrap() {
        lines.push((
            json!({"kind": "cgminer", "data": item["getwork_data_hex"],
                   "midstate": item["midstate_hex_cgminer"]})
            .to_string(),
            Some(s(&item["hash"]).to_string()),
        ));
    }
    lines.push((String::new(), None)); // blank: skipped
    lines.push(("{\"kind\": \"antminer-s1\"}".into(), None));
    lines.push(("[1, 2]".into(), None));
    lines.push((
        json!({"kind": "icarus", "work": "00", "nonce": "000187a2"}).to_string(),
        None,
    ));

    let mut child = bin()
        .args(["asic", "--json", "--difficulty", "32"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all((input.join("\n") + "\n").as_bytes())
        .unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = json_lines(&o);
    let (rows, summary) = out.split_at(out.len() - 1);
    let expected: Vec<(usize, &Option<String>)> = lines
        .iter()
        .enumerate()
        .filter(|(_, (l, _))| !l.is_empty())
        .map(|(i, (_, h))| (i + 1, h))
        .collect();
    assert_eq!(rows.len(), expected.len());
    let mut shares = 0;
    for (row, (line, hash)) in rows.iter().zip(&expected) {
        assert_eq!(row["type"], "result");
        assert_eq!(row["line"], *line as u64, "{row}");
        match hash {
            Some(h) => {
                assert_eq!(row["hash"], h.as_str(), "{row}");
                assert_eq!(row["good"], true, "{row}");
                assert_eq!(row["malformed"], false);
                let d = row["difficulty"].as_f64().unwrap();
                assert_eq!(row["share"], d >= 32.0, "{row}");
                shares += (d >= 32.0) as u64;
            }
            None => {
                assert_eq!(row["malformed"], true, "{row}");
                assert!(!s(&row["error"]).is_empty());
            }
        }
    }
    // The cgminer items' difficulties, as the test data computed them.
    for (row, item) in rows[3..].iter().zip(cgminer["items"].as_array().unwrap()) {
        let want = item["computed_share_diff"].as_f64().unwrap();
        let got = row["difficulty"].as_f64().unwrap();
        assert!((got / want - 1.0).abs() < 1e-9, "{got} vs {want}");
    }
    assert!(rows[4..].iter().any(|r| r["share"] == false));
    let sum = &summary[0];
    assert_eq!(sum["type"], "summary");
    assert_eq!(sum["results"], 3 + 32);
    assert_eq!(sum["good"], 3 + 32);
    assert_eq!(sum["shares"], shares);
    assert_eq!(sum["hardware_errors"], 0);
    assert_eq!(sum["malformed"], 3);
    assert_eq!(sum["blank_lines"], 1);

    // A wrong nonce is a hardware error (below the chip's difficulty 1).
    let wrong = json!({"kind": "header", "header": header.with_nonce(1).to_hex()});
    let tmp = common::scratch("asic");
    let path = tmp.join("results.jsonl");
    std::fs::write(&path, wrong.to_string() + "\n").unwrap();
    let o = bin()
        .args(["asic", "--results"])
        .arg(&path)
        .output()
        .unwrap();
    let text = common::stdout(&o);
    assert!(text.starts_with("1: header hardware error:"), "{text}");
    assert!(stderr(&o).contains("1 hardware error"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&tmp);
}
