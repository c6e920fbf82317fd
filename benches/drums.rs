//! Measures the drum grammar: `cargo bench --bench drums [-- --show SEED]`.
//!
//! Over Energy 0, .25, .5, .75, 1 × 40 seeds (1..=40), 8-bar grooves:
//! * Spearman ρ(Energy, onsets per bar) and the mean onsets per bar at each level;
//! * % of non-fill bars with snare or clap on steps 4 and 12; % of bars with a kick on step 0;
//! * mean groove consistency (MusPy's: 1 − mean Hamming distance / 16 between the onset
//!   vectors of consecutive bars, all drums merged; and a per-drum variant), and how often
//!   bars 4 and 8 differ from bar 1;
//! * distinct one-bar kick/snare patterns (bar 1) over seeds 1..=100 at Energy 0.5;
//! * same seed, Energy ± 0.05: % of kick/snare/clap onsets kept;
//! * median time to write + render an 8-bar phrase (µs; meaningful in a release build), and
//!   the decoder's time to write the same phrase's progression in the same run.
//!
//! `--show SEED` prints that seed's grooves at Energy 0, 0.5 and 1 as grids.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/rank.rs"]
mod rank;

use lofi_loom::decoder::Model;
use lofi_loom::music::drums::{
    render_groove, write_groove, write_groove_with_info, DrumFeel, DrumHit, DrumSound, Groove,
    STEPS_PER_BAR,
};
use lofi_loom::music::knobs::Knobs;
use lofi_loom::worker::compose;
use lofi_loom::worker::neural::NeuralSource;
use rank::spearman;
use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

const LEVELS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
const SEEDS: u64 = 40;
const BARS: u32 = 8;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--show") {
        let seed = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(1);
        show(seed);
        return;
    }
    energy_sweep();
    backbeat_and_kick();
    consistency();
    variety();
    identity();
    timing();
}

/// Onsets per bar of each (Energy, seed), the ρ and the per-level means.
fn energy_sweep() {
    let mut pairs = Vec::new();
    println!("Energy  onsets/bar: mean (min–max)   kick  snare+clap  timekeeper  open hat");
    for &e in &LEVELS {
        let mut per_bar = Vec::new();
        let mut by_kind = [0.0; 4];
        for seed in 1..=SEEDS {
            let g = write_groove(seed, e, BARS);
            let n = g.onsets() as f64 / f64::from(BARS);
            per_bar.push(n);
            pairs.push((f64::from(e), n));
            for bar in &g.bars {
                for s in DrumSound::ALL {
                    let hits = bar.row(s).iter().filter(|l| l.is_on()).count() as f64;
                    let kind = match s {
                        DrumSound::Kick => 0,
                        DrumSound::Snare | DrumSound::Clap | DrumSound::SideStick => 1,
                        DrumSound::OpenHat => 3,
                        _ => 2,
                    };
                    by_kind[kind] += hits / f64::from(BARS) / SEEDS as f64;
                }
            }
        }
        let mean = per_bar.iter().sum::<f64>() / per_bar.len() as f64;
        let min = per_bar.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = per_bar.iter().cloned().fold(0.0, f64::max);
        println!(
            "{e:>5.2}   {mean:>6.2} ({min:.2}–{max:.2})          {:>5.2}  {:>9.2}  {:>10.2}  {:>8.2}",
            by_kind[0], by_kind[1], by_kind[2], by_kind[3]
        );
    }
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
    println!(
        "Spearman rho(Energy, onsets per bar) over {} grooves: {:.3}",
        x.len(),
        spearman(&x, &y)
    );
}

/// Whether the bar has snare or clap on both backbeat steps.
fn has_backbeat(g: &Groove, b: usize) -> bool {
    [4, 12].iter().all(|&s| {
        g.bars[b].level(DrumSound::Snare, s).is_on() || g.bars[b].level(DrumSound::Clap, s).is_on()
    })
}

fn backbeat_and_kick() {
    let (mut bars, mut non_fill, mut backbeat, mut kick, mut fills) = (0, 0, 0, 0, 0);
    for &e in &LEVELS {
        for seed in 1..=SEEDS {
            let (g, info) = write_groove_with_info(seed, e, BARS);
            fills += usize::from(info.fill_bar.is_some());
            for b in 0..g.bars.len() {
                bars += 1;
                kick += usize::from(g.bars[b].level(DrumSound::Kick, 0).is_on());
                if info.fill_bar != Some(b) {
                    non_fill += 1;
                    backbeat += usize::from(has_backbeat(&g, b));
                }
            }
        }
    }
    println!(
        "non-fill bars with snare/clap on 2 and 4: {:.1} % ({backbeat}/{non_fill})",
        pct(backbeat, non_fill)
    );
    println!(
        "bars with kick on 1: {:.1} % ({kick}/{bars})",
        pct(kick, bars)
    );
    println!(
        "phrases with a fill: {fills} of {}",
        LEVELS.len() * SEEDS as usize
    );
    let mut line = String::from("phrases with a fill by Energy:");
    for &e in &LEVELS {
        let n = (1..=SEEDS)
            .filter(|&s| write_groove_with_info(s, e, BARS).1.fill_bar.is_some())
            .count();
        line += &format!(" {e}: {n}/{SEEDS}");
    }
    println!("{line}");
}

/// Onset vector of one bar: all drums merged, or one drum.
fn onset_mask(g: &Groove, b: usize, sound: Option<DrumSound>) -> u16 {
    let mut mask = 0u16;
    for step in 0..STEPS_PER_BAR {
        let on = match sound {
            Some(s) => g.bars[b].level(s, step).is_on(),
            None => DrumSound::ALL
                .iter()
                .any(|&s| g.bars[b].level(s, step).is_on()),
        };
        if on {
            mask |= 1 << step;
        }
    }
    mask
}

/// MusPy's groove consistency of one groove (all drums merged), and the per-drum variant
/// (the mean over drums that play, of the same measure on that drum's onsets).
fn groove_consistency(g: &Groove) -> (f64, f64) {
    let pairs = g.bars.len() - 1;
    let measure = |sound| {
        let d: u32 = (0..pairs)
            .map(|b| (onset_mask(g, b, sound) ^ onset_mask(g, b + 1, sound)).count_ones())
            .sum();
        1.0 - f64::from(d) / (16.0 * pairs as f64)
    };
    let merged = measure(None);
    let playing: Vec<DrumSound> = DrumSound::ALL
        .into_iter()
        .filter(|&s| g.bars.iter().any(|b| b.sounds(s)))
        .collect();
    let per_drum = playing.iter().map(|&s| measure(Some(s))).sum::<f64>() / playing.len() as f64;
    (merged, per_drum)
}

fn consistency() {
    let mut line = String::from("groove consistency (merged / per drum) by Energy:");
    let (mut all, mut all_drum, mut n, mut min) = (0.0, 0.0, 0, f64::INFINITY);
    for &e in &LEVELS {
        let (mut m, mut p) = (0.0, 0.0);
        for seed in 1..=SEEDS {
            let (merged, per_drum) = groove_consistency(&write_groove(seed, e, BARS));
            m += merged;
            p += per_drum;
            min = min.min(merged);
        }
        line += &format!(" {e}: {:.3}/{:.3}", m / SEEDS as f64, p / SEEDS as f64);
        all += m;
        all_drum += p;
        n += SEEDS as usize;
    }
    println!("{line}");
    let mut line = String::from("bars that differ from bar 1 (bar 4 / bar 8) by Energy:");
    for &e in &LEVELS {
        let (mut four, mut eight) = (0, 0);
        for seed in 1..=SEEDS {
            let g = write_groove(seed, e, BARS);
            four += usize::from(g.bars[3] != g.bars[0]);
            eight += usize::from(g.bars[7] != g.bars[0]);
        }
        line += &format!(" {e}: {four}/{eight} of {SEEDS}");
    }
    println!("{line}");
    println!(
        "mean groove consistency: {:.3} merged (lowest phrase {min:.3}), {:.3} per drum",
        all / n as f64,
        all_drum / n as f64
    );
}

fn variety() {
    let patterns: HashSet<(u16, u16)> = (1..=100)
        .map(|seed| {
            let g = write_groove(seed, 0.5, BARS);
            let snare = onset_mask(&g, 0, Some(DrumSound::Snare))
                | onset_mask(&g, 0, Some(DrumSound::Clap));
            (onset_mask(&g, 0, Some(DrumSound::Kick)), snare)
        })
        .collect();
    let kicks: HashSet<u16> = patterns.iter().map(|p| p.0).collect();
    println!(
        "distinct one-bar kick/snare patterns, 100 seeds at Energy 0.5: {} ({} kick patterns)",
        patterns.len(),
        kicks.len()
    );
}

/// Kick, snare and clap onsets of a groove as (bar, step, sound), skipping the fill bar.
fn kick_snare(g: &Groove, skip: Option<usize>) -> HashSet<(usize, usize, DrumSound)> {
    let mut set = HashSet::new();
    for (b, bar) in g.bars.iter().enumerate() {
        if Some(b) == skip {
            continue;
        }
        for s in [DrumSound::Kick, DrumSound::Snare, DrumSound::Clap] {
            for step in 0..STEPS_PER_BAR {
                if bar.level(s, step).is_on() {
                    set.insert((b, step, s));
                }
            }
        }
    }
    set
}

fn identity() {
    for (label, delta) in [("+0.05", 0.05f32), ("-0.05", -0.05)] {
        let (mut kept, mut total, mut kept_nf, mut total_nf) = (0, 0, 0, 0);
        for &e in &LEVELS {
            let other = e + delta;
            if !(0.0..=1.0).contains(&other) {
                continue;
            }
            for seed in 1..=SEEDS {
                let (a, ia) = write_groove_with_info(seed, e, BARS);
                let (b, ib) = write_groove_with_info(seed, other, BARS);
                let (sa, sb) = (kick_snare(&a, None), kick_snare(&b, None));
                kept += sa.intersection(&sb).count();
                total += sa.len();
                let skip = ia.fill_bar.or(ib.fill_bar);
                let (sa, sb) = (kick_snare(&a, skip), kick_snare(&b, skip));
                kept_nf += sa.intersection(&sb).count();
                total_nf += sa.len();
            }
        }
        println!(
            "Energy {label}: kick/snare/clap onsets kept {:.1} % (non-fill bars {:.1} %)",
            pct(kept, total),
            pct(kept_nf, total_nf)
        );
    }
}

fn timing() {
    let feel = DrumFeel {
        energy: 0.7,
        swing_pct: 20.0,
        humanize_pct: 25.0,
        humanize_seed: 0,
        lazy_pct: 50.0,
    };
    let mut times = Vec::new();
    let mut hits = 0usize;
    for round in 0..3000u64 {
        let seed = round % 100;
        let energy = (round % 11) as f32 / 10.0;
        let t = Instant::now();
        let g = write_groove(black_box(seed), black_box(energy), 8);
        let mut sink = |h: DrumHit| {
            hits += usize::from(h.velocity);
        };
        render_groove(
            &g,
            8,
            &DrumFeel {
                energy,
                humanize_seed: seed,
                ..feel
            },
            &mut sink,
        );
        black_box(&g);
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    black_box(hits);
    times.sort_by(f64::total_cmp);
    let drums_us = times[times.len() / 2];
    println!(
        "write + render an 8-bar phrase: median {drums_us:.1} µs, p95 {:.1} µs (3000 runs, {} build)",
        times[times.len() * 95 / 100],
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    match decoder_us() {
        Some(decoder) => println!(
            "the decoder writes an 8-bar progression in {decoder:.0} µs (median, same run): the drums take {:.1} % of that",
            100.0 * drums_us / decoder
        ),
        None => println!("the decoder could not be timed: the embedded model did not load"),
    }
}

/// Median time for the embedded decoder to write an 8-bar progression at the plugin's
/// default knobs (seeds 1..=200, after a warm-up), in µs: what the worker spends beside the
/// drums for every new phrase.
fn decoder_us() -> Option<f64> {
    let model = Model::embedded().ok()?;
    let mut source = NeuralSource::new(&model, "embedded").ok()?;
    let knobs = Knobs::default();
    for seed in 0..20 {
        black_box(compose::write_progression(&mut source, &knobs, seed, None).ok()?);
    }
    let mut times: Vec<f64> = (1..=200u64)
        .map(|seed| {
            let t = Instant::now();
            black_box(compose::write_progression(&mut source, &knobs, seed, None).ok());
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Some(times[times.len() / 2])
}

fn show(seed: u64) {
    for e in [0.0, 0.5, 1.0] {
        let (g, info) = write_groove_with_info(seed, e, BARS);
        println!("seed {seed}, Energy {e}: {info:?}");
        for s in DrumSound::ALL {
            if !g.bars.iter().any(|b| b.sounds(s)) {
                continue;
            }
            let rows: Vec<String> = g.bars.iter().map(|b| b.row_string(s)).collect();
            println!("  {:>10} {}", s.name(), rows.join(" "));
        }
    }
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b as f64
}
