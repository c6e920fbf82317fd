//! The drum part through its public API: exact rendering of hand-written grooves, properties of
//! generated grooves over many seeds × energies × feels, and the serde form.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lofi_loom::music::drums::{
    render_groove, write_groove, write_groove_with_info, DrumBar, DrumFeel, DrumHit, DrumSound,
    Groove, KitMap, Level, STEPS_PER_BAR,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use DrumSound::*;

/// Every hit of a performance.
fn hits(groove: &Groove, bars: u32, feel: &DrumFeel) -> Vec<DrumHit> {
    let mut v = Vec::new();
    render_groove(groove, bars, feel, &mut |h| v.push(h));
    v
}

fn bar(rows: &[(DrumSound, &str)]) -> DrumBar {
    DrumBar::from_rows(rows).unwrap()
}

/// The two bars of the hand-rendered test.
fn hand_groove() -> Groove {
    Groove {
        bars: vec![
            bar(&[
                (Kick, "X.........x....."),
                (Snare, "....X..g....X..."),
                (ClosedHat, "x.x.x.x.x.x.x.xg"),
            ]),
            bar(&[
                (Kick, "X..............."),
                (Clap, "....X.......X..."),
                (SideStick, "..........x....."),
                (ClosedHat, "x.x.x.x.x.x.xg.."),
                (OpenHat, "..............x."),
            ]),
        ],
    }
}

#[test]
fn a_hand_written_groove_renders_to_hand_computed_notes() {
    // Swing 50 %: d = 0.5 × 0.5 = 0.25 beat; an off-beat eighth moves by d, the sixteenths
    // either side by d/2 = 0.125. Lazy 100 %: snare, clap, side stick + 1/24 beat, hats − 1/96.
    // Energy 0.5 velocities: ghost 34 + 8 = 42, normal 70 + 15 = 85, accent 90 + 16 = 106, plus
    // the trims kick 0, side stick −6, snare 0, clap −4, closed hat −10, open hat −6.
    const LATE: f64 = 1.0 / 24.0;
    const EARLY: f64 = 1.0 / 96.0;
    let feel = DrumFeel {
        energy: 0.5,
        swing_pct: 50.0,
        humanize_pct: 0.0,
        humanize_seed: 99,
        lazy_pct: 100.0,
    };
    // (start, GM key, velocity), in time order; bar A, bar B, bar A again (3 phrase bars).
    let bar_a = |o: f64| {
        // Step 0: the hat is early — before the kick, except at the phrase start where it is
        // clamped to 0 and the tie goes to the kick (DrumSound order).
        let step0 = if o == 0.0 {
            [(0.0, 36, 106), (0.0, 42, 75)]
        } else {
            [(o - EARLY, 42, 75), (o, 36, 106)]
        };
        let mut v = step0.to_vec();
        v.extend([
            (o + 0.75 - EARLY, 42, 75),  // step 2 hat, swung 0.5 → 0.75
            (o + 1.0 - EARLY, 42, 75),   // step 4 hat
            (o + 1.0 + LATE, 38, 106),   // step 4 snare X, late
            (o + 1.75 - EARLY, 42, 75),  // step 6 hat, 1.5 → 1.75
            (o + 1.875 + LATE, 38, 42),  // step 7 ghost snare, 1.75 → 1.875
            (o + 2.0 - EARLY, 42, 75),   // step 8 hat
            (o + 2.75 - EARLY, 42, 75),  // step 10 hat, 2.5 → 2.75
            (o + 2.75, 36, 85),          // step 10 kick x
            (o + 3.0 - EARLY, 42, 75),   // step 12 hat
            (o + 3.0 + LATE, 38, 106),   // step 12 snare X
            (o + 3.75 - EARLY, 42, 75),  // step 14 hat, 3.5 → 3.75
            (o + 3.875 - EARLY, 42, 32), // step 15 hat g (42 − 10), 3.75 → 3.875
        ]);
        v
    };
    let o = 4.0;
    let bar_b = vec![
        (o - EARLY, 42, 75),         // step 0 hat: early, so before this bar's kick
        (o, 36, 106),                // step 0 kick X
        (o + 0.75 - EARLY, 42, 75),  // step 2 hat
        (o + 1.0 - EARLY, 42, 75),   // step 4 hat
        (o + 1.0 + LATE, 39, 102),   // step 4 clap X (106 − 4)
        (o + 1.75 - EARLY, 42, 75),  // step 6 hat
        (o + 2.0 - EARLY, 42, 75),   // step 8 hat
        (o + 2.75 - EARLY, 42, 75),  // step 10 hat
        (o + 2.75 + LATE, 37, 79),   // step 10 side stick x (85 − 6)
        (o + 3.0 - EARLY, 42, 75),   // step 12 hat
        (o + 3.0 + LATE, 39, 102),   // step 12 clap X
        (o + 3.375 - EARLY, 42, 32), // step 13 hat g, 3.25 → 3.375
        (o + 3.75 - EARLY, 46, 79),  // step 14 open hat x (85 − 6), 3.5 → 3.75
    ];
    let expected: Vec<(f64, u8, u8)> = [bar_a(0.0), bar_b, bar_a(8.0)].concat();
    let got = hits(&hand_groove(), 3, &feel);
    assert_eq!(got.len(), expected.len());
    for (i, (h, &(start, key, velocity))) in got.iter().zip(&expected).enumerate() {
        assert!(
            (h.start_beats - start).abs() < 1e-12,
            "hit {i}: {h:?}, expected start {start}"
        );
        assert_eq!(KitMap::GeneralMidi.key(h.sound), key, "hit {i}: {h:?}");
        assert_eq!(h.velocity, velocity, "hit {i}: {h:?}");
        // Every gap to the next hit of the same sound is at least 1/8 beat here: full length.
        assert_eq!(h.len_beats, 1.0 / 16.0, "hit {i}: {h:?}");
    }
    // The phrase-start clamp gives exactly 0, not a tiny negative.
    assert_eq!(got[1].start_beats, 0.0);
}

#[test]
fn swing_moves_off_beat_eighths_exactly_as_the_other_parts() {
    // render.rs: swing(pos) = pos + swing_pct / 100 × 0.5 for an off-beat eighth.
    let groove = Groove {
        bars: vec![bar(&[(Kick, "..x...x...x...x.")])],
    };
    for pct in [0.0f32, 13.0, 20.0, 37.5, 60.0] {
        let feel = DrumFeel {
            swing_pct: pct,
            ..DrumFeel::default()
        };
        let starts: Vec<f64> = hits(&groove, 1, &feel)
            .iter()
            .map(|h| h.start_beats)
            .collect();
        let expected: Vec<f64> = [0.5, 1.5, 2.5, 3.5]
            .iter()
            .map(|pos| pos + f64::from(pct) / 100.0 * 0.5)
            .collect();
        assert_eq!(starts, expected, "swing {pct}");
    }
    // Out of range and NaN clamp to 60 and 0.
    let at = |pct| {
        hits(
            &groove,
            1,
            &DrumFeel {
                swing_pct: pct,
                ..DrumFeel::default()
            },
        )[0]
        .start_beats
    };
    assert_eq!(at(90.0), 0.5 + 0.3);
    assert_eq!(at(f32::NAN), 0.5);
}

#[test]
fn sixteenths_keep_their_order_at_full_swing() {
    // 60 %: d = 0.3, so a beat's sixteenths land at 0, 0.15 + 0.25 = 0.4, 0.8, 0.9.
    let groove = Groove {
        bars: vec![bar(&[(Shaker, "xxxx............")])],
    };
    let feel = DrumFeel {
        swing_pct: 60.0,
        ..DrumFeel::default()
    };
    let starts: Vec<f64> = hits(&groove, 1, &feel)
        .iter()
        .map(|h| h.start_beats)
        .collect();
    let expected = [0.0, 0.4, 0.8, 0.9];
    for (s, e) in starts.iter().zip(expected) {
        assert!((s - e).abs() < 1e-12, "{starts:?}");
    }
}

#[test]
fn a_late_snare_at_the_phrase_end_is_cut_to_end_there() {
    // Step 15 at 60 % swing: 3.75 + 0.15 = 3.9; + 1/24 lazy = 3.941 6…; 1/16 would end at
    // 4.004, past the 1-bar phrase: the length is cut to 4 − start.
    let groove = Groove {
        bars: vec![bar(&[(Snare, "...............x")])],
    };
    let feel = DrumFeel {
        swing_pct: 60.0,
        lazy_pct: 100.0,
        ..DrumFeel::default()
    };
    let h = hits(&groove, 1, &feel)[0];
    let start = 3.9 + 1.0 / 24.0;
    assert!((h.start_beats - start).abs() < 1e-12);
    assert!((h.len_beats - (4.0 - start)).abs() < 1e-12);
    assert!(h.start_beats + h.len_beats <= 4.0);
}

#[test]
fn humanize_follows_the_documented_stream() {
    // One kick on step 4 and a closed hat on step 5, humanize 100 %, energy 1 (normal 100).
    // Stream 3 of the seed: lines 0–3 draw a timing uniform each (no hits); line 4 draws its
    // timing (u5), then the kick's velocity (u6); line 5 its timing (u7), then the hat's
    // velocity (u8).
    let groove = Groove {
        bars: vec![bar(&[
            (Kick, "....x..........."),
            (ClosedHat, ".....x.........."),
        ])],
    };
    let seed = 2024;
    let feel = DrumFeel {
        energy: 1.0,
        humanize_pct: 100.0,
        humanize_seed: seed,
        ..DrumFeel::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(3);
    let u: Vec<f64> = (0..8)
        .map(|_| 2.0 * ((rng.next_u64() >> 11) as f64 / 2f64.powi(53)) - 1.0)
        .collect();
    let got = hits(&groove, 1, &feel);
    assert!((got[0].start_beats - (1.0 + 0.02 * u[4])).abs() < 1e-12);
    assert_eq!(got[0].velocity, (100.0 + 8.0 * u[5]).round() as u8);
    assert!((got[1].start_beats - (1.25 + 0.02 * u[6])).abs() < 1e-12);
    // Hat: 100 − 10 trim, −8 accent on an "e", ± 8 jitter.
    assert_eq!(got[1].velocity, (90.0 - 8.0 + 8.0 * u[7]).round() as u8);
}

#[test]
fn humanize_is_seeded_bounded_and_accents_the_beat() {
    let feel = |seed, pct| DrumFeel {
        energy: 0.6,
        swing_pct: 20.0,
        humanize_pct: pct,
        humanize_seed: seed,
        lazy_pct: 30.0,
    };
    let (mut on_beat, mut sixteenth) = (Vec::new(), Vec::new());
    for seed in 0..40 {
        let g = write_groove(seed, 0.9, 8);
        let a = hits(&g, 8, &feel(seed, 100.0));
        assert_eq!(a, hits(&g, 8, &feel(seed, 100.0)));
        assert_ne!(a, hits(&g, 8, &feel(seed + 1000, 100.0)));
        // Against the unhumanized performance, matched by (sound, grid position).
        let mut grid = hits(&g, 8, &feel(seed, 0.0));
        let mut human = a.clone();
        let key = |h: &DrumHit| (h.sound, (h.start_beats * 4.0).round() as i64);
        grid.sort_by_key(key);
        human.sort_by_key(key);
        for (h, g0) in human.iter().zip(&grid) {
            assert_eq!(h.sound, g0.sound);
            let moved = h.start_beats - g0.start_beats;
            assert!(moved.abs() <= 0.02 + 1e-12, "{h:?} vs {g0:?}");
            // ± 8 jitter, plus a hat's metric accent of up to 8, plus rounding.
            let slack = if h.sound.is_hat() { 16 } else { 8 };
            assert!(
                h.velocity.abs_diff(g0.velocity) <= slack + 1,
                "{h:?} vs {g0:?}"
            );
            if h.sound == ClosedHat {
                let step = (g0.start_beats * 4.0).round() as i64 % 4;
                let diff = f64::from(h.velocity) - f64::from(g0.velocity);
                match step {
                    0 => on_beat.push(diff),
                    1 | 3 => sixteenth.push(diff),
                    _ => {}
                }
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Expected +6 and −8 (the jitter averages out over thousands of hits).
    assert!(mean(&on_beat) > 4.0, "{}", mean(&on_beat));
    assert!(mean(&sixteenth) < -6.0, "{}", mean(&sixteenth));
}

#[test]
fn energy_sets_the_velocity_curve() {
    let groove = Groove {
        bars: vec![bar(&[
            (Kick, "X.g.x..........."),
            (Shaker, "x..............."),
        ])],
    };
    let velocities = |energy| -> Vec<u8> {
        hits(
            &groove,
            1,
            &DrumFeel {
                energy,
                ..DrumFeel::default()
            },
        )
        .iter()
        .map(|h| h.velocity)
        .collect()
    };
    // Order: step 0 kick X, step 0 shaker x, step 2 kick g, step 4 kick x.
    assert_eq!(velocities(0.0), [90, 54, 34, 70]);
    assert_eq!(velocities(1.0), [122, 84, 50, 100]);
    // 98, 61.5 → 62 (half away from zero), 38, 77.5 → 78.
    assert_eq!(velocities(0.25), [98, 62, 38, 78]);
    assert_eq!(velocities(f32::NAN), velocities(0.5));
    assert_eq!(velocities(5.0), velocities(1.0));
}

/// The same kit on many seeds × energies × bar counts.
fn cases() -> impl Iterator<Item = (u64, f32, u32)> {
    (0..60u64).flat_map(|seed| {
        (0..=10)
            .flat_map(move |e| [1u32, 2, 4, 5, 8].map(move |bars| (seed, e as f32 / 10.0, bars)))
    })
}

#[test]
fn performances_are_sorted_in_range_and_never_overlap_a_key() {
    let feels = [
        DrumFeel::default(),
        DrumFeel {
            energy: 1.0,
            swing_pct: 60.0,
            humanize_pct: 100.0,
            humanize_seed: 7,
            lazy_pct: 100.0,
        },
        DrumFeel {
            energy: 0.0,
            swing_pct: 20.0,
            humanize_pct: 35.0,
            humanize_seed: 0,
            lazy_pct: 55.0,
        },
    ];
    for (seed, energy, bars) in cases() {
        let groove = write_groove(seed, energy, bars);
        for (i, feel) in feels.iter().enumerate() {
            let feel = DrumFeel {
                humanize_seed: feel.humanize_seed ^ seed,
                ..*feel
            };
            let hs = hits(&groove, bars, &feel);
            let ctx = format!("seed {seed} energy {energy} bars {bars} feel {i}");
            assert_eq!(hs.len(), groove.onsets(), "{ctx}");
            let end = f64::from(bars) * 4.0;
            for w in hs.windows(2) {
                assert!(w[0].start_beats <= w[1].start_beats, "{ctx}: {w:?}");
            }
            for map in [KitMap::GeneralMidi, KitMap::Chromatic] {
                let mut last_end = [f64::NEG_INFINITY; 128];
                for h in &hs {
                    assert!(h.start_beats >= 0.0 && h.start_beats < end, "{ctx}: {h:?}");
                    assert!(
                        h.len_beats > 0.0 && h.len_beats <= 1.0 / 16.0,
                        "{ctx}: {h:?}"
                    );
                    assert!(h.start_beats + h.len_beats <= end, "{ctx}: {h:?}");
                    assert!((1..=127).contains(&h.velocity), "{ctx}: {h:?}");
                    let key = map.key(h.sound) as usize;
                    assert!(
                        last_end[key] <= h.start_beats,
                        "{ctx}: key {key} overlaps at {h:?}"
                    );
                    last_end[key] = h.start_beats + h.len_beats;
                }
            }
        }
    }
}

/// Whether bar `b` has snare or clap on both backbeat steps.
fn has_backbeat(g: &Groove, b: usize) -> bool {
    [4, 12]
        .iter()
        .all(|&s| g.bars[b].level(Snare, s).is_on() || g.bars[b].level(Clap, s).is_on())
}

#[test]
fn grooves_kick_on_one_and_backbeat_on_two_and_four() {
    let (mut bars_seen, mut kick_on_one) = (0, 0);
    for (seed, energy, bars) in cases() {
        let (g, info) = write_groove_with_info(seed, energy, bars);
        assert_eq!(g.bars.len(), bars as usize);
        for b in 0..g.bars.len() {
            bars_seen += 1;
            kick_on_one += usize::from(g.bars[b].level(Kick, 0).is_on());
            if info.fill_bar != Some(b) {
                assert!(has_backbeat(&g, b), "seed {seed} energy {energy} bar {b}");
            }
        }
    }
    // The brief asks ≥ 90 %; the grammar promises every bar.
    assert_eq!(kick_on_one, bars_seen);
}

#[test]
fn fills_come_only_at_high_energy_in_the_last_bar() {
    let mut with_fill_at_075 = 0;
    for (seed, energy, bars) in cases() {
        let (_, info) = write_groove_with_info(seed, energy, bars);
        match info.fill_bar {
            Some(b) => {
                assert_eq!(b, bars as usize - 1);
                assert!(bars >= 2 && energy > 0.6, "seed {seed} energy {energy}");
                assert!(matches!(info.fill_start, Some(8 | 12)));
            }
            None => assert!(bars == 1 || energy < 0.95, "seed {seed} energy {energy}"),
        }
        if (energy - 0.8).abs() < 1e-6 && bars == 8 {
            with_fill_at_075 += usize::from(info.fill_bar.is_some());
        }
    }
    // At 0.8 the chance is (0.8 − 0.6)/0.35 = 57 %: some but not all of 60 seeds.
    assert!((15..=50).contains(&with_fill_at_075), "{with_fill_at_075}");
}

#[test]
fn raising_energy_only_adds_hits_outside_fills() {
    for seed in 0..80u64 {
        for bars in [2u32, 4, 8] {
            let grooves: Vec<_> = (0..=20)
                .map(|e| write_groove_with_info(seed, e as f32 / 20.0, bars))
                .collect();
            for w in grooves.windows(2) {
                let ((lo, lo_info), (hi, hi_info)) = (&w[0], &w[1]);
                for b in 0..bars as usize {
                    if lo_info.fill_bar == Some(b) || hi_info.fill_bar == Some(b) {
                        continue;
                    }
                    for sound in DrumSound::ALL {
                        for step in 0..STEPS_PER_BAR {
                            let (l, h) =
                                (lo.bars[b].level(sound, step), hi.bars[b].level(sound, step));
                            assert!(
                                h >= l,
                                "seed {seed} bars {bars} bar {b} {sound:?} step {step}: {l:?} → {h:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn energy_sweeps_density_and_opens_the_hat() {
    let mean = |e: f32, f: &dyn Fn(&Groove) -> usize| {
        (0..40).map(|s| f(&write_groove(s, e, 8))).sum::<usize>() as f64 / (40.0 * 8.0)
    };
    let onsets = |g: &Groove| g.onsets();
    let open = |g: &Groove| {
        g.bars
            .iter()
            .map(|b| b.row(OpenHat).iter().filter(|l| l.is_on()).count())
            .sum()
    };
    let hats = |g: &Groove| {
        g.bars
            .iter()
            .map(|b| {
                [ClosedHat, Ride, Shaker]
                    .iter()
                    .map(|&s| b.row(s).iter().filter(|l| l.is_on()).count())
                    .sum::<usize>()
            })
            .sum()
    };
    assert!(mean(0.0, &onsets) <= 7.0, "{}", mean(0.0, &onsets));
    assert!(mean(1.0, &onsets) >= 24.0, "{}", mean(1.0, &onsets));
    assert!(mean(0.0, &open) < mean(0.5, &open) && mean(0.5, &open) < mean(1.0, &open));
    // Quarters or fewer at 0, eighths by 0.5, sixteenths at 1.
    assert!(mean(0.0, &hats) <= 4.0 && mean(0.5, &hats) >= 7.0 && mean(1.0, &hats) >= 14.0);
}

#[test]
fn grooves_are_seeded_and_clamped() {
    assert_eq!(write_groove(5, 0.4, 4), write_groove(5, 0.4, 4));
    assert_ne!(write_groove(5, 0.4, 4), write_groove(6, 0.4, 4));
    assert_eq!(write_groove(5, f32::NAN, 4), write_groove(5, 0.5, 4));
    assert_eq!(write_groove(5, -3.0, 4), write_groove(5, 0.0, 4));
    assert_eq!(write_groove(5, 3.0, 4), write_groove(5, 1.0, 4));
    assert_eq!(write_groove(5, 0.4, 0).bars.len(), 1);
    assert_eq!(write_groove(5, 0.4, 99).bars.len(), 8);
}

#[test]
fn a_short_groove_repeats_and_an_empty_one_is_silent() {
    let g = write_groove(11, 0.7, 2);
    let two = hits(&g, 2, &DrumFeel::default());
    let eight = hits(&g, 8, &DrumFeel::default());
    assert_eq!(eight.len(), 4 * two.len());
    for (i, h) in eight.iter().enumerate() {
        let o = &two[i % two.len()];
        assert_eq!((h.sound, h.velocity), (o.sound, o.velocity));
        assert_eq!(h.start_beats, o.start_beats + 8.0 * (i / two.len()) as f64);
    }
    assert!(hits(&Groove { bars: vec![] }, 4, &DrumFeel::default()).is_empty());
}

#[test]
fn serde_form_is_compact_and_round_trips() {
    let g = Groove {
        bars: vec![
            bar(&[(Kick, "X.........x....."), (Snare, "....X..g....X...")]),
            DrumBar::EMPTY,
        ],
    };
    let json = serde_json::to_string(&g).unwrap();
    assert_eq!(
        json,
        r#"{"bars":[{"kick":"X.........x.....","snare":"....X..g....X..."},{}]}"#
    );
    assert_eq!(serde_json::from_str::<Groove>(&json).unwrap(), g);
    for (seed, energy, bars) in cases().step_by(7) {
        let g = write_groove(seed, energy, bars);
        let back: Groove =
            serde_json::from_str(&serde_json::to_string_pretty(&g).unwrap()).unwrap();
        assert_eq!(back, g);
    }
    // A silent row written out is accepted (and dropped on the way back out).
    let quiet: Groove = serde_json::from_str(r#"{"bars":[{"ride":"................"}]}"#).unwrap();
    assert_eq!(quiet.bars, [DrumBar::EMPTY]);
}

#[test]
fn malformed_grooves_are_rejected_naming_the_field() {
    let ok = r#"{"kick":"X..............."}"#;
    let err = |json: &str| {
        serde_json::from_str::<Groove>(json)
            .unwrap_err()
            .to_string()
    };
    let cases = [
        (
            format!(r#"{{"bars":[{ok},{{"kick":"X.."}}]}}"#),
            "`bars[1].kick`: expected 16 steps",
        ),
        (
            r#"{"bars":[{"snare":"....X...o......."}]}"#.to_owned(),
            "`bars[0].snare`: 'o' at step 8",
        ),
        (
            format!(r#"{{"bars":[{ok},{{"cowbell":"X..............."}}]}}"#),
            "`bars[1].cowbell`: unknown drum",
        ),
        (
            r#"{"bars":[{"kick":"X...............","kick":"X..............."}]}"#.to_owned(),
            "`bars[0].kick`: given twice",
        ),
        (
            r#"{"bars":[{"clap":5}]}"#.to_owned(),
            "`bars[0].clap`: invalid type: integer `5`",
        ),
        (
            r#"{"bars":[]}"#.to_owned(),
            "`bars`: a groove has at least 1 bar",
        ),
        (
            format!(r#"{{"bars":[{}]}}"#, [ok; 9].join(",")),
            "`bars[8]`: a groove has at most 8 bars",
        ),
        (
            format!(r#"{{"bars":[{ok}],"tempo":90}}"#),
            "unknown field `tempo`",
        ),
        (r#"{}"#.to_owned(), "missing field `bars`"),
        (
            r#"{"bars":["x"]}"#.to_owned(),
            "expected `bars[0]` to be a map from drum name",
        ),
    ];
    for (json, expected) in cases {
        let message = err(&json);
        assert!(
            message.contains(expected),
            "{json}\n  gave: {message}\n  want: {expected}"
        );
    }
}

#[test]
fn levels_parse_to_their_numbers() {
    let row = DrumBar::parse_row(".gxX............").unwrap();
    assert_eq!(
        &row[..4],
        &[Level::Off, Level::Ghost, Level::Normal, Level::Accent]
    );
    assert_eq!(row.map(|l| l as u8)[..4], [0, 1, 2, 3]);
}

/// The drum part through the real sequencer, as the plugin plays it: a hand-written bar
/// rendered with swing 50 %, Lazy 100 % and no humanize, on channel 10 (index 9) with General
/// MIDI keys, at 48 kHz and 120 BPM (24 000 samples per beat). Each onset is worked out by hand
/// from the documented rules (`src/music/drums/perform.rs`): an off-beat eighth moves by
/// swing/100 × 0.5 beat; at 100 % Lazy the snare lands 1/24 beat late and the hats 1/96 early;
/// the sequencer plays a position on sample ceil(beats × 24 000 − 1e-4). Every note lasts 1/16
/// beat (1 500 samples).
#[test]
fn drums_play_on_channel_ten_on_their_exact_samples() {
    use lofi_loom::audio::sequencer::Sequencer;
    use lofi_loom::audio::sim::{Recorder, SimTransport};
    use lofi_loom::music::phrase::Phrase;
    use lofi_loom::music::progression::{Mode, Progression};
    use lofi_loom::music::render::{render_into, RenderSettings};

    let groove = Groove {
        bars: vec![bar(&[
            (Kick, "X..............."),
            (Snare, "....X..........."),
            (ClosedHat, "..x............."),
        ])],
    };
    let settings = RenderSettings {
        bars: Some(1),
        swing_pct: 50.0,
        lazy_pct: 100.0,
        ..RenderSettings::neutral()
    };
    let silent = Progression {
        key: 0,
        mode: Mode::Ionian,
        bars: Vec::new(),
    };
    let mut phrase = Phrase::new(1);
    render_into(&silent, Some(&groove), &settings, &mut phrase);
    let mut seq = Sequencer::new();
    let mut rec = Recorder::default();
    seq.queue(Box::new(phrase), &mut rec);
    let mut t = SimTransport::new(48_000.0, 120.0);
    t.playing = true;
    rec.run(&mut seq, &mut t, 48_000, 333);
    let heard: Vec<(u64, bool, u8, u8)> = rec
        .events
        .iter()
        .map(|e| (e.sample, e.event.on, e.event.channel, e.event.key))
        .collect();
    // Kick on beat 0: 0. Hat on the off-beat eighth, swung to 0.75 and pushed 1/96 early:
    // 0.739583… beat = 17 750 samples. Snare on beat 1, 1/24 late: 1.041666… = 25 000.
    assert_eq!(
        heard,
        [
            (0, true, 9, 36),
            (1_500, false, 9, 36),
            (17_750, true, 9, 42),
            (19_250, false, 9, 42),
            (25_000, true, 9, 38),
            (26_500, false, 9, 38),
        ]
    );
}
