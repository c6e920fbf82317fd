//! Hostile input, extreme settings, output ceiling, DC, silence after stop, the idle fast
//! path, long decays and other sample rates.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/band_loop.rs"]
mod common;

use common::*;
use lofi_loom::audio::band::{Band, Instrument, InstrumentSettings, MelodyVoice, SoundSettings};

/// −1 dBFS.
const CEILING: f32 = 0.891_251;
/// −90 dBFS.
const MINUS_90_DB: f32 = 3.162_3e-5;
const ALL: [Instrument; 4] = [
    Instrument::Keys,
    Instrument::Melody,
    Instrument::Bass,
    Instrument::Kit,
];

fn with_all(x: f32, db: f32) -> SoundSettings {
    let i = InstrumentSettings {
        on: true,
        level_db: db,
    };
    SoundSettings {
        keys: i,
        melody: i,
        bass: i,
        kit: i,
        tone: x,
        wobble: x,
        drive: x,
        dust: x,
        crush: x,
        space: x,
        master_db: db,
        ..Default::default()
    }
}

fn check(l: &[f32], r: &[f32], what: &str) {
    for (i, x) in l.iter().chain(r).enumerate() {
        assert!(x.is_finite(), "{what}: non-finite sample {i}");
        assert!(x.abs() <= CEILING, "{what}: sample {i} = {x} above -1 dBFS");
        assert!(*x == 0.0 || x.is_normal(), "{what}: subnormal sample {i}");
    }
}

/// Every key of every instrument at once, repeated note-ons, offs without ons, velocities
/// 0 and 127, blocks of 0, 1 and 8192 samples.
fn abuse(band: &mut Band, s: &SoundSettings, what: &str) {
    let (mut l, mut r) = (vec![0.0; 8192], vec![0.0; 8192]);
    band.set_playing(true);
    for inst in ALL {
        for key in 0..=127 {
            band.note_off(inst, key);
            band.note_on(inst, key, 127);
        }
    }
    band.render(s, &mut l[..0], &mut r[..0]);
    band.render(s, &mut l[..1], &mut r[..1]);
    for _ in 0..6 {
        band.render(s, &mut l, &mut r);
        check(&l, &r, what);
    }
    for _ in 0..50 {
        band.note_on(Instrument::Keys, 60, 127);
        band.note_on(Instrument::Bass, 255, 127);
        band.note_on(Instrument::Kit, 36, 0);
        band.render(s, &mut l[..7], &mut r[..7]);
        check(&l[..7], &r[..7], what);
    }
    for inst in ALL {
        for key in (0..=255).step_by(3) {
            band.note_on(inst, key, key % 128);
        }
    }
    band.render(s, &mut l[..100], &mut r[..3]);
    check(&l, &r, what);
    band.release_all();
    band.set_playing(false);
    for _ in 0..30 {
        band.render(s, &mut l, &mut r);
        check(&l, &r, what);
    }
}

#[test]
fn hostile_input_and_extreme_settings_stay_finite_and_below_minus_1_dbfs() {
    let cases = [
        ("max", maxed()),
        ("nan", with_all(f32::NAN, f32::NAN)),
        ("+inf", with_all(f32::INFINITY, f32::INFINITY)),
        ("-inf", with_all(f32::NEG_INFINITY, f32::NEG_INFINITY)),
        ("beyond", with_all(7.0, 1e9)),
        ("zero", with_all(0.0, -60.0)),
        ("default", SoundSettings::default()),
    ];
    for (what, s) in cases {
        abuse(&mut Band::new(FS), &s, what);
    }
    for fs in [f32::NAN, 0.0, -1.0, 1e9] {
        abuse(&mut Band::new(fs), &maxed(), "odd sample rate");
    }
}

#[test]
fn loop_at_max_levels_stays_below_minus_1_dbfs() {
    let n = (bar_samples(FS) * 4.0) as usize;
    let events = demo_loop(4, FS);
    let (l, r) = render_whole(&mut Band::new(FS), &maxed(), &events, n);
    check(&l, &r, "max loop");
    assert!(
        peak(&l, &r) > 0.5,
        "the limiter must actually have been driven"
    );
}

fn stop_at(events: &mut Timeline, at: usize) {
    events.retain(|e| (e.0 as usize) < at);
    events.push((at as u64, Ev::Play(false)));
    events.push((at as u64, Ev::ReleaseAll));
}

#[test]
fn default_loop_has_no_dc_and_falls_silent_within_2_s_of_stop() {
    for dust in [0.25, 0.0, 1.0] {
        let s = SoundSettings {
            dust,
            ..Default::default()
        };
        let stop = (bar_samples(FS) * 8.0) as usize;
        let mut events = demo_loop(8, FS);
        stop_at(&mut events, stop);
        let (l, r) = render_whole(&mut Band::new(FS), &s, &events, stop + 3 * FS as usize);
        let (dl, dr) = dc(&l[..stop], &r[..stop]);
        assert!(dl.abs() < 1e-3 && dr.abs() < 1e-3, "DC {dl} {dr}");
        let tail = stop + 2 * FS as usize;
        assert!(
            peak(&l[tail..], &r[tail..]) < MINUS_90_DB,
            "dust {dust}: not below -90 dBFS 2 s after stop"
        );
        assert!(
            peak(&l[stop - 4800..stop], &r[stop - 4800..stop]) > 0.01,
            "loop was silent"
        );
    }
}

#[test]
fn idle_after_tails_writes_exact_zeros_and_wakes_on_a_note() {
    let mut band = Band::new(FS);
    assert!(band.is_idle(), "a new band is idle");
    let s = SoundSettings::default();
    let (mut buf_l, mut buf_r) = (vec![1.0; 8192], vec![1.0; 8192]);
    let (l, r) = (&mut buf_l[..512], &mut buf_r[..512]);
    band.set_playing(true);
    band.render(&s, l, r);
    assert!(!band.is_idle(), "dust plays while the transport runs");
    band.note_on(Instrument::Keys, 60, 100);
    band.note_on(Instrument::Kit, 51, 100);
    for _ in 0..100 {
        band.render(&s, l, r);
    }
    band.set_playing(false);
    band.release_all();
    let mut blocks = 0;
    while !band.is_idle() {
        band.render(&s, l, r);
        blocks += 1;
        assert!(blocks < 10 * 48_000 / 512, "not idle 10 s after stop");
    }
    for n in [512, 1, 0, 8192, 77] {
        buf_l.fill(1.0);
        buf_r.fill(1.0);
        band.render(&s, &mut buf_l[..n], &mut buf_r[..n]);
        assert!(
            buf_l[..n]
                .iter()
                .chain(&buf_r[..n])
                .all(|&x| x.to_bits() == 0),
            "idle output is not exact zeros"
        );
        assert!(band.is_idle());
    }
    band.note_on(Instrument::Melody, 72, 100);
    assert!(!band.is_idle());
    band.render(&s, &mut buf_l[..512], &mut buf_r[..512]);
    assert!(
        peak(&buf_l[..512], &buf_r[..512]) > 1e-3,
        "no sound after waking"
    );
}

#[test]
fn long_held_decay_stays_normal_then_goes_idle() {
    let s = SoundSettings {
        dust: 0.0,
        ..maxed()
    };
    let mut band = Band::new(FS);
    let (mut l, mut r) = (vec![0.0; 4096], vec![0.0; 4096]);
    for k in [36, 48, 55, 64, 71] {
        band.note_on(Instrument::Keys, k, 127);
    }
    band.note_on(Instrument::Kit, 36, 127);
    // 60 s: the held notes decay through every level down to their end.
    for _ in 0..(60 * FS as usize / 4096) {
        band.render(&s, &mut l, &mut r);
        check(&l, &r, "held decay");
    }
    assert!(
        band.is_idle(),
        "held notes that decayed away must leave the band idle"
    );
}

#[test]
fn other_sample_rates_play_stop_and_go_idle() {
    for fs in [8_000.0, 22_050.0, 44_100.0, 96_000.0, 192_000.0] {
        let stop = (bar_samples(fs) * 2.0) as usize;
        let mut events = demo_loop(2, fs);
        stop_at(&mut events, stop);
        let mut band = Band::new(fs);
        let (l, r) = render_whole(&mut band, &maxed(), &events, stop + 3 * fs as usize);
        check(&l, &r, "sample rate");
        let tail = stop + 2 * fs as usize;
        assert!(
            peak(&l[tail..], &r[tail..]) < MINUS_90_DB,
            "{fs} Hz: not silent 2 s after stop"
        );
        assert!(band.is_idle(), "{fs} Hz: not idle 3 s after stop");
    }
}

/// The loudness the default sound is voiced for, in LUFS (integrated, EBU R 128): the level of
/// a streamed lo-fi track, so the band sits with other material without a gain change.
const TARGET_LUFS: f64 = -16.0;
/// How far from [`TARGET_LUFS`] the default loop may measure, in LU.
const TARGET_LU_TOLERANCE: f64 = 3.0;

/// The default sound is voiced for [`TARGET_LUFS`]: the demo loop at Energy 0.5 measures
/// within [`TARGET_LU_TOLERANCE`] of it, with headroom and no DC.
#[test]
fn default_loop_at_energy_one_half_measures_minus_16_lufs_below_minus_1_dbfs_without_dc() {
    // Four bars (the whole chord cycle, ≈ 11.3 s: more than EBU R 128's 400 ms blocks need)
    // of the demo loop, whose velocities are those of Energy 0.5, at the default sound.
    let n = (bar_samples(FS) * 4.0) as usize;
    let events = demo_loop(4, FS);
    let (l, r) = render_whole(&mut Band::new(FS), &SoundSettings::default(), &events, n);
    let loudness = lufs(&l, &r, FS);
    assert!(
        (loudness - TARGET_LUFS).abs() <= TARGET_LU_TOLERANCE,
        "default loop at {loudness:.2} LUFS, not {TARGET_LUFS} ± {TARGET_LU_TOLERANCE}"
    );
    let peak_db = 20.0 * f64::from(peak(&l, &r)).log10();
    assert!(peak_db <= -1.0, "peak {peak_db:.2} dBFS above -1 dBFS");
    let (dl, dr) = dc(&l, &r);
    assert!(dl.abs() < 1e-3 && dr.abs() < 1e-3, "DC {dl:.2e} {dr:.2e}");
}

/// A random knob value: often an extreme (0, 1, beyond the range, NaN, ±∞), else in 0..=1.
fn wild_unit(rng: &mut TestRng) -> f32 {
    match rng.below(10) {
        0 => 0.0,
        1 => 1.0,
        2 => f32::NAN,
        3 => f32::INFINITY,
        4 => f32::NEG_INFINITY,
        5 => [-3.0, 7.0, 1e30, -1e-30, f32::MIN_POSITIVE / 4.0][rng.below(5) as usize],
        _ => rng.below(1_001) as f32 / 1_000.0,
    }
}

/// A random level in dB: often an extreme (−60, +6, beyond the range, NaN, ±∞), else in range.
fn wild_db(rng: &mut TestRng) -> f32 {
    match rng.below(10) {
        0 => -60.0,
        1..=2 => 6.0,
        3 => f32::NAN,
        4 => f32::INFINITY,
        5 => f32::NEG_INFINITY,
        6 => [-1e9, 1e9, 12.0][rng.below(3) as usize],
        _ => -60.0 + rng.below(661) as f32 / 10.0,
    }
}

/// Every sound setting drawn anew (instruments on 7 times in 8).
fn wild_settings(rng: &mut TestRng) -> SoundSettings {
    let mut instrument = || InstrumentSettings {
        on: rng.below(8) != 0,
        level_db: wild_db(rng),
    };
    let (keys, melody, bass, kit) = (instrument(), instrument(), instrument(), instrument());
    SoundSettings {
        keys,
        melody,
        bass,
        kit,
        melody_voice: [
            MelodyVoice::SoftMallet,
            MelodyVoice::BellKeys,
            MelodyVoice::MutedLead,
        ][rng.below(3) as usize],
        tone: wild_unit(rng),
        wobble: wild_unit(rng),
        drive: wild_unit(rng),
        dust: wild_unit(rng),
        crush: wild_unit(rng),
        space: wild_unit(rng),
        master_db: wild_db(rng),
    }
}

/// Automation at its most hostile never makes the output unsafe.
#[test]
fn every_setting_automated_every_block_stays_finite_normal_and_below_minus_1_dbfs() {
    // Four bars of the loop, a stop, and a second of tails; every block (1–2048 samples, some
    // empty) gets new random settings for every knob, extremes and non-finite values included.
    let stop = (bar_samples(FS) * 4.0) as usize;
    let total = stop + FS as usize;
    let mut events = demo_loop(4, FS);
    stop_at(&mut events, stop);
    for seed in [3u64, 0xdead_beef] {
        let mut rng = TestRng(seed);
        let mut band = Band::new(FS);
        let (mut l, mut r) = (vec![0.0f32; total], vec![0.0f32; total]);
        let (mut pos, mut next) = (0usize, 0usize);
        while pos < total {
            while next < events.len() && events[next].0 as usize <= pos {
                apply(&mut band, events[next].1);
                next += 1;
            }
            let event_at = events.get(next).map_or(total, |e| e.0 as usize);
            let len = match rng.below(8) {
                0 => 0,
                1..=3 => 1 + rng.below(64) as usize,
                _ => 1 + rng.below(2048) as usize,
            };
            let end = (pos + len).min(event_at).min(total);
            let s = wild_settings(&mut rng);
            band.render(&s, &mut l[pos..end], &mut r[pos..end]);
            pos = end;
        }
        check(&l, &r, &format!("automation, seed {seed}"));
        assert!(
            peak(&l[..stop], &r[..stop]) > 0.1,
            "seed {seed}: the loop was not heard"
        );
    }
}
