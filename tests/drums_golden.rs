//! Fixed seeds → the exact grooves and notes recorded in `tests/fixtures/drums/drums_golden.json`.
//!
//! The fixture is written by `tests/fixtures/drums/make_drums_golden.py`, a pure-Python twin of the
//! grammar, the performance and the ChaCha8 / `seed_from_u64` generator, sharing no code with
//! this crate (see `tests/fixtures/drums/README.md`). Floats are compared bit for bit.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lofi_loom::music::drums::{
    render_groove, write_groove_with_info, DrumFeel, DrumSound, Groove, KitMap,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    chacha_check: Vec<ChaChaCheck>,
    feel: Feel,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct ChaChaCheck {
    seed: u64,
    stream: u64,
    first_next_u64: Vec<u64>,
    next_u64_100th: u64,
}

#[derive(Deserialize)]
struct Feel {
    swing_pct: f32,
    humanize_pct: f32,
    lazy_pct: f32,
}

#[derive(Deserialize)]
struct Case {
    seed: u64,
    energy: f32,
    bars: u32,
    fill_bar: Option<usize>,
    groove: serde_json::Value,
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
struct Hit {
    start_bits: String,
    len_bits: String,
    sound: DrumSound,
    gm_key: u8,
    velocity: u8,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/drums/drums_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

#[test]
fn the_python_chacha8_matches_rand_chacha() {
    let f = fixture();
    assert!(!f.chacha_check.is_empty());
    for check in &f.chacha_check {
        let mut rng = stream(check.seed, check.stream);
        let first: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first, check.first_next_u64,
            "seed {} stream {}",
            check.seed, check.stream
        );
        let mut rng = stream(check.seed, check.stream);
        let hundredth = (0..100).map(|_| rng.next_u64()).last().unwrap();
        assert_eq!(
            hundredth, check.next_u64_100th,
            "seed {} stream {}",
            check.seed, check.stream
        );
    }
}

#[test]
fn golden_seeds_give_the_recorded_grooves_and_notes() {
    let f = fixture();
    assert!(f.cases.len() >= 12);
    for case in &f.cases {
        let ctx = format!(
            "seed {} energy {} bars {}",
            case.seed, case.energy, case.bars
        );
        let (groove, info) = write_groove_with_info(case.seed, case.energy, case.bars);
        // The groove, both as serde reads the twin's JSON and as serde writes ours.
        let recorded: Groove = serde_json::from_value(case.groove.clone()).unwrap();
        assert_eq!(groove, recorded, "{ctx}");
        assert_eq!(serde_json::to_value(&groove).unwrap(), case.groove, "{ctx}");
        assert_eq!(info.fill_bar, case.fill_bar, "{ctx}");
        let feel = DrumFeel {
            energy: case.energy,
            swing_pct: f.feel.swing_pct,
            humanize_pct: f.feel.humanize_pct,
            humanize_seed: case.seed,
            lazy_pct: f.feel.lazy_pct,
        };
        let mut hits = Vec::new();
        render_groove(&groove, case.bars, &feel, &mut |h| hits.push(h));
        assert_eq!(hits.len(), case.hits.len(), "{ctx}");
        for (i, (h, r)) in hits.iter().zip(&case.hits).enumerate() {
            let bits = |s: &str| u64::from_str_radix(s, 16).unwrap();
            assert_eq!(
                h.start_beats.to_bits(),
                bits(&r.start_bits),
                "{ctx} hit {i}: {h:?}"
            );
            assert_eq!(
                h.len_beats.to_bits(),
                bits(&r.len_bits),
                "{ctx} hit {i}: {h:?}"
            );
            assert_eq!(h.sound, r.sound, "{ctx} hit {i}");
            assert_eq!(KitMap::GeneralMidi.key(h.sound), r.gm_key, "{ctx} hit {i}");
            assert_eq!(h.velocity, r.velocity, "{ctx} hit {i}: {h:?}");
        }
    }
}

/// Prints rand_chacha's values for the README's cross-check table:
/// `cargo test --test drums_golden -- --ignored print_rust_chacha --nocapture`.
#[test]
#[ignore]
fn print_rust_chacha() {
    for seed in [0, 1, 42, u64::MAX] {
        for s in [lofi_loom::music::drums::GROOVE_STREAM, 3] {
            let mut rng = stream(seed, s);
            let v: Vec<u64> = (0..100).map(|_| rng.next_u64()).collect();
            println!("seed {seed} stream {s:#x}: {:?} … #100 {}", &v[..4], v[99]);
        }
    }
}
