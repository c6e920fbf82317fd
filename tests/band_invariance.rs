//! Block-size invariance (bit-exact, through stop, idle and wake-up) and determinism.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/band_loop.rs"]
mod common;

use common::*;
use lofi_loom::audio::band::{Band, Instrument, MelodyVoice, SoundSettings};

/// Two bars of the loop, stop, four seconds of tails (the band goes idle), then a chord again.
fn scenario() -> (Timeline, usize) {
    let bars = 2;
    let end = (bar_samples(FS) * bars as f64) as u64;
    let mut ev = demo_loop(bars, FS);
    ev.retain(|e| e.0 < end);
    ev.push((end, Ev::Play(false)));
    ev.push((end, Ev::ReleaseAll));
    let again = end + 4 * FS as u64;
    for k in [57, 60, 64] {
        ev.push((again, Ev::On(Instrument::Keys, k, 90)));
    }
    ev.push((again, Ev::On(Instrument::Kit, 36, 90)));
    sort(&mut ev);
    (ev, (again + FS as u64) as usize)
}

fn settings_under_test() -> [SoundSettings; 3] {
    let maxed = SoundSettings {
        melody_voice: MelodyVoice::MutedLead,
        tone: 1.0,
        wobble: 1.0,
        drive: 1.0,
        dust: 1.0,
        crush: 1.0,
        space: 1.0,
        master_db: 6.0,
        ..Default::default()
    };
    let odd = SoundSettings {
        melody_voice: MelodyVoice::BellKeys,
        tone: 0.73,
        crush: 0.37,
        wobble: 0.61,
        ..Default::default()
    };
    [SoundSettings::default(), maxed, odd]
}

/// Asserts two renders are bit-identical, naming the first differing sample.
fn assert_same(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
        panic!(
            "{what}: first difference at sample {i}: {} vs {}",
            a[i], b[i]
        );
    }
}

#[test]
fn random_splits_match_one_block_bit_for_bit() {
    let (events, total) = scenario();
    for (i, s) in settings_under_test().iter().enumerate() {
        let whole = render_whole(&mut Band::new(FS), s, &events, total);
        for seed in [1u64, 99, 12345] {
            let mut rng = TestRng(seed * 7919 + i as u64);
            // Mostly tiny blocks, some empty, some up to 8192.
            let mut block = || match rng.below(10) {
                0 => 0,
                1..=5 => 1 + rng.below(64) as usize,
                _ => 1 + rng.below(8192) as usize,
            };
            let split = render(&mut Band::new(FS), s, &events, total, &mut block);
            assert_same(
                &whole.0,
                &split.0,
                &format!("left, settings {i}, seed {seed}"),
            );
            assert_same(
                &whole.1,
                &split.1,
                &format!("right, settings {i}, seed {seed}"),
            );
        }
    }
}

#[test]
fn idle_was_reached_inside_the_scenario() {
    // Guards the test above: the scenario must cross an idle period and wake up again.
    let (events, total) = scenario();
    let mut band = Band::new(FS);
    let stop = events
        .iter()
        .find(|e| e.1 == Ev::ReleaseAll)
        .map_or(0, |e| e.0 as usize);
    let _ = render_whole(
        &mut band,
        &SoundSettings::default(),
        &events[..events.len() - 4],
        stop + 4 * FS as usize,
    );
    assert!(band.is_idle());
    let (l, _) = render_whole(&mut band, &SoundSettings::default(), &events, total);
    assert!(
        peak(&l[stop + 4 * FS as usize..], &l[..0]) > 0.01,
        "no sound after wake-up"
    );
}

#[test]
fn same_calls_same_bytes_and_reset_restores_new() {
    let (events, total) = scenario();
    let s = settings_under_test()[1];
    let a = render_whole(&mut Band::new(FS), &s, &events, total);
    let b = render_whole(&mut Band::new(FS), &s, &events, total);
    assert_same(&a.0, &b.0, "two runs, left");
    assert_same(&a.1, &b.1, "two runs, right");
    // A used band, reset mid-note, renders exactly like a new one.
    let mut used = Band::new(FS);
    let _ = render_whole(&mut used, &s, &events, total / 3);
    used.reset();
    let c = render_whole(&mut used, &s, &events, total);
    assert_same(&a.0, &c.0, "after reset, left");
    assert_same(&a.1, &c.1, "after reset, right");
}
